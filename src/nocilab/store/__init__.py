"""nocilab.store"""
