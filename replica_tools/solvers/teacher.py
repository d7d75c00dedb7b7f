"""Teacher weights drawn from a declared prior."""

import math

import numpy as np
import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.prior import derive_components, gaussian_parameters


def teacher_law(prior, rho=None):
    """Return (weights, means, variances) of the prior as a mixture of Gaussians and point masses.

    A point mass is a component of variance 0. A density must be Gaussian (see
    ``gaussian_parameters``). ``rho`` replaces the symbol rho where the declaration has it.
    """
    def number(expr):
        expr = sp.sympify(expr)
        if rho is not None:
            expr = expr.subs(s.rho, rho)
        return float(expr)

    if prior.is_mixture:
        components = derive_components(prior)
        laws = [(c.weight, c.teacher_mean, c.teacher_variance) for c in components]
    else:
        laws = [gaussian_parameters(prior.density)]
    weights, means, variances = (np.array([number(law[k]) for law in laws]) for k in range(3))
    return weights, means, variances


def draw_weights(prior, n, rng, rho=None):
    """Draw n i.i.d. teacher weights from ``prior`` with the generator ``rng``.

    A single Gaussian component is drawn as ``rng.normal(mean, sqrt(variance), n)``, the same
    stream as ``make_instance`` draws without a prior. A mixture draws the component of each
    weight first, then its value.
    """
    weights, means, variances = teacher_law(prior, rho)
    if weights.size == 1:
        return rng.normal(means[0], math.sqrt(variances[0]), size=n)
    component = rng.choice(weights.size, size=n, p=weights / weights.sum())
    values = means[component]
    if np.any(variances > 0):
        values = values + np.sqrt(variances[component]) * rng.standard_normal(n)
    return values
