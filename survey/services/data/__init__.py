"""Data leaving the app: exports in every format, backups, CSV reading, the analysis extract.
"""
