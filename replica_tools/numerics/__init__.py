"""Numerical layer: derived expressions compiled to stable NumPy and to mpmath, and quadrature."""
