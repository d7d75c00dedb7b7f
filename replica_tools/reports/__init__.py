"""Reports layer: tables, plots and output files built from solver results.

Nothing here prints. Functions return text or bytes, and ``files`` writes them atomically.
"""
