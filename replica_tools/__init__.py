"""replica_tools: learning curves of generalized linear models, derived symbolically and checked
numerically (mpmath) and algorithmically (GAMP).

Layers, each using only the ones above it:

- ``symbolic``: what a model is (P_out, P_0) and what SymPy derives from it.
- ``numerics``: how derived expressions are evaluated (stable NumPy forms, mpmath, quadrature).
- ``solvers``: what is computed (state evolution, RS saddle point, asymptotics, GAMP).
- ``reports``: how results are shown (tables, plots, LaTeX, files).
- ``cli``: the ``replica-tools`` command.
"""

__version__ = "0.1.0"
