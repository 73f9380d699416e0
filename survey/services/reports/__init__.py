"""Dashboard and printable report: household and desk indices, comparisons, trends, charts,
rendering.
"""
