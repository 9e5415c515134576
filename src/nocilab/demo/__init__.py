"""nocilab.demo"""
