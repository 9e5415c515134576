"""nocilab.model"""
