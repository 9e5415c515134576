"""nocilab.ingest"""
