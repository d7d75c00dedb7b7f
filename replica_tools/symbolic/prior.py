"""Priors P_0(w) and the moments of the tilted measure that GAMP and the replica formulas use.

The replica form tilts the prior as P_0(w) exp(gamma w - Lambda w^2 / 2):

    Z_w(gamma, Lambda) = int dw P_0(w) exp(gamma w - Lambda w^2 / 2),
    f_w = d_gamma log Z_w  (the mean),   variance = d_gamma f_w.

The GAMP form multiplies the prior by a Gaussian N(w; R, Sigma). Its mean f_w(Sigma, R) and
variance are derived here by their own integrals, and agree with the replica form at
gamma = R / Sigma, Lambda = 1 / Sigma (a test checks this).

A prior may mix point masses with a density (Gauss-Bernoulli: a mass 1 - rho at 0 and the
density rho N(w; 0, 1)). Its tilted measure is then a mixture too, and ``derive_components``
derives each component's log evidence, mean and variance separately, so that the numerical layer
can combine them without overflow.
"""

from dataclasses import dataclass

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.gaussian import integrate_over_line


@dataclass(frozen=True)
class Prior:
    """A prior on each weight: point masses, a density, or both.

    Parameters
    ----------
    name : str
        Short identifier, used in reports.
    density : sympy.Expr or None
        The continuous part of P_0(w) in the symbol ``replica_tools.symbolic.symbols.w``. Alone it
        integrates to one; next to point masses it integrates to one minus their total weight.
    point_masses : tuple of (value, weight) pairs or None
        The discrete part, sum_k weight_k delta(w - value_k).
    second_moment : sympy.Expr
        rho = E[w^2] under the prior, the teacher norm per weight.
    """

    name: str
    density: sp.Expr = None
    point_masses: tuple = None
    second_moment: sp.Expr = None

    def expectation(self, integrand):
        """Return int dw P_0(w) integrand(w): a sum over the point masses plus an integral."""
        total = sp.Integer(0)
        if self.point_masses is not None:
            total += sp.Add(*(weight * integrand.subs(s.w, value) for value, weight in self.point_masses))
        if self.density is not None:
            total += integrate_over_line(self.density * integrand, s.w)
        return total

    @property
    def mean(self):
        """E[w] under the prior."""
        return sp.simplify(self.expectation(s.w))

    @property
    def is_mixture(self):
        """Whether the prior has point masses, so that its tilted measure is a finite mixture."""
        return self.point_masses is not None


@dataclass(frozen=True)
class Component:
    """One component of a mixture prior and of its tilted measure.

    ``weight`` is its prior probability. ``teacher_mean`` and ``teacher_variance`` describe the
    component as a law of the teacher weight (variance 0 for a point mass). ``log_evidence``,
    ``mean`` and ``variance`` are log int P_c(w) exp(gamma w - Lambda w^2 / 2) dw and the moments
    of the tilted component, functions of (gamma, Lambda).
    """

    weight: sp.Expr
    teacher_mean: sp.Expr
    teacher_variance: sp.Expr
    log_evidence: sp.Expr
    mean: sp.Expr
    variance: sp.Expr


def gaussian_parameters(density):
    """Return (mass, mean, variance) of a density mass * N(w; mean, variance), or raise ValueError.

    The rule: log density must be a polynomial of degree two in w with a negative leading
    coefficient. Densities of other shapes have no teacher sampler or quadrature here.
    """
    log_density = sp.expand(sp.expand_log(sp.log(density), force=True))
    if not log_density.is_polynomial(s.w) or sp.Poly(log_density, s.w).degree() != 2:
        raise ValueError(f"density {density} is not Gaussian: log P_0 must be quadratic in w")
    a, b, c = (sp.Poly(log_density, s.w).coeff_monomial(s.w**k) for k in (2, 1, 0))
    variance = sp.simplify(-1 / (2 * a))
    mean = sp.simplify(b * variance)
    mass = sp.simplify(sp.exp(c + mean**2 / (2 * variance)) * sp.sqrt(2 * sp.pi * variance))
    return mass, mean, variance


def derive_components(prior):
    """Derive the components of a mixture prior: point masses first, then the density if any."""
    tilt = sp.exp(s.gamma * s.w - s.Lambda * s.w**2 / 2)
    components = []
    for value, weight in prior.point_masses or ():
        value = sp.sympify(value)
        # A point mass tilts to itself: evidence weight exp(gamma a - Lambda a^2 / 2), variance 0.
        log_evidence = sp.log(weight) + s.gamma * value - s.Lambda * value**2 / 2
        components.append(Component(sp.sympify(weight), value, sp.Integer(0), log_evidence, value, sp.Integer(0)))
    if prior.density is not None:
        mass, teacher_mean, teacher_variance = gaussian_parameters(prior.density)
        evidence = sp.simplify(integrate_over_line(prior.density * tilt, s.w))
        log_evidence = sp.expand(sp.expand_log(sp.log(evidence), force=True))
        mean = sp.simplify(sp.diff(log_evidence, s.gamma))
        variance = sp.simplify(sp.diff(mean, s.gamma))
        components.append(Component(mass, teacher_mean, teacher_variance, log_evidence, mean, variance))
    return tuple(components)


def entropy(prior):
    """Return the Shannon entropy -sum_k p_k log p_k of a purely discrete prior."""
    if prior.density is not None or prior.point_masses is None:
        raise ValueError(f"prior {prior.name} has a density: its Shannon entropy is not defined")
    return -sp.Add(*(weight * sp.log(weight) for _, weight in prior.point_masses if weight != 0))


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
