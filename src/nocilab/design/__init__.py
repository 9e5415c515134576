"""nocilab.design"""
