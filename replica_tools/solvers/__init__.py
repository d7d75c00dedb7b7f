"""Solvers: state evolution and RS fixed points, large-alpha asymptotics, GAMP."""
