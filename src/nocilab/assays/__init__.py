"""nocilab.assays"""
