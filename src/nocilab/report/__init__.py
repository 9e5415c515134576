"""nocilab.report"""
