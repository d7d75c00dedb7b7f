"""Priors P_0(w) and the moments of the tilted measure that GAMP and the replica formulas use.

The replica form tilts the prior as P_0(w) exp(gamma w - Lambda w^2 / 2):

    Z_w(gamma, Lambda) = int dw P_0(w) exp(gamma w - Lambda w^2 / 2),
    f_w = d_gamma log Z_w  (the mean),   variance = d_gamma f_w.

The GAMP form multiplies the prior by a Gaussian N(w; R, Sigma). Its mean f_w(Sigma, R) and
variance are derived here by their own integrals, and agree with the replica form at
gamma = R / Sigma, Lambda = 1 / Sigma (a test checks this).
"""

from dataclasses import dataclass

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.gaussian import integrate_over_line


@dataclass(frozen=True)
class Prior:
    """A prior on each weight, a density or a set of point masses.

    Parameters
    ----------
    name : str
        Short identifier, used in reports.
    density : sympy.Expr or None
        P_0(w) in the symbol ``replica_tools.symbolic.symbols.w``, normalized on the real line.
    point_masses : tuple of (value, weight) pairs or None
        For a discrete prior, sum_k weight_k delta(w - value_k).
    second_moment : sympy.Expr
        rho = E[w^2] under the prior, the teacher norm per weight.
    """

    name: str
    density: sp.Expr = None
    point_masses: tuple = None
    second_moment: sp.Expr = None

    def expectation(self, integrand):
        """Return int dw P_0(w) integrand(w) (a sum for point masses)."""
        if self.point_masses is not None:
            return sp.Add(*(weight * integrand.subs(s.w, value) for value, weight in self.point_masses))
        return integrate_over_line(self.density * integrand, s.w)


@dataclass(frozen=True)
class InputFunctions:
    """Moments of the tilted prior in both parametrizations."""

    prior: Prior
    Z_w: sp.Expr  # Z_w(gamma, Lambda)
    f_w: sp.Expr  # mean, in (gamma, Lambda)
    variance: sp.Expr  # d_gamma f_w, in (gamma, Lambda)
    Z_w_gamp: sp.Expr  # int dw P_0(w) N(w; R, Sigma)
    f_w_gamp: sp.Expr  # mean, in (Sigma, R)
    variance_gamp: sp.Expr  # second moment minus mean squared, in (Sigma, R)


def derive_input_functions(prior):
    """Derive Z_w, f_w and the variance of the tilted prior in both parametrizations."""
    tilt = sp.exp(s.gamma * s.w - s.Lambda * s.w**2 / 2)
    Z_w = sp.simplify(prior.expectation(tilt))
    f_w = sp.simplify(sp.diff(sp.log(Z_w), s.gamma))
    variance = sp.simplify(sp.diff(f_w, s.gamma))

    gaussian = sp.exp(-(s.w - s.R) ** 2 / (2 * s.Sigma)) / sp.sqrt(2 * sp.pi * s.Sigma)
    Z_w_gamp = sp.simplify(prior.expectation(gaussian))
    f_w_gamp = sp.simplify(prior.expectation(s.w * gaussian) / Z_w_gamp)
    second_moment = sp.simplify(prior.expectation(s.w**2 * gaussian) / Z_w_gamp)
    variance_gamp = sp.simplify(second_moment - f_w_gamp**2)

    return InputFunctions(prior, Z_w, f_w, variance, Z_w_gamp, f_w_gamp, variance_gamp)
