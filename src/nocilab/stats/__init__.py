"""nocilab.stats"""
