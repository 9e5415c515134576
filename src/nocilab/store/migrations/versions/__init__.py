"""Named, ordered schema revisions: ``NNNN_name.py`` with ``revision = "NNNN_name"``."""
