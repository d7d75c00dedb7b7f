"""The field's symbols, shared by every derivation so that expressions combine."""

import sympy as sp

# Output side: label y, pre-activation z, its cavity mean omega and variance V.
y = sp.Symbol("y", real=True)
z = sp.Symbol("z", real=True)
omega = sp.Symbol("omega", real=True)
V = sp.Symbol("V", positive=True)

# Input side: weight w; GAMP parametrizes the tilted measure by (Sigma, R), the replica formulas by
# (gamma, Lambda), with gamma = R / Sigma and Lambda = 1 / Sigma.
w = sp.Symbol("w", real=True)
Sigma = sp.Symbol("Sigma", positive=True)
R = sp.Symbol("R", real=True)
gamma = sp.Symbol("gamma", real=True)
Lambda = sp.Symbol("Lambda", positive=True)

# Order parameters and model constants.
q = sp.Symbol("q", positive=True)
qhat = sp.Symbol("qhat", positive=True)
alpha = sp.Symbol("alpha", positive=True)
rho = sp.Symbol("rho", positive=True)

# Standard Gaussian integration variables.
xi = sp.Symbol("xi", real=True)
t = sp.Symbol("t", real=True)
