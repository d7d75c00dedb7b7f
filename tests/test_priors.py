"""The binary, Rademacher and Gauss-Bernoulli priors: declaration, compiled input functions, V(qhat).

Expected values are typed here from the priors' definitions and evaluated with mpmath at 30 to
40 digits: f_w = tanh(gamma + h) with h = atanh(2p - 1) for the binary prior, and the two-state
posterior of the Gauss-Bernoulli prior.
"""

import mpmath
import numpy as np
import pytest
import sympy as sp

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.reports.latex import model_formulas
from replica_tools.solvers.state_evolution import maps_for
from replica_tools.symbolic.catalog import build_model, PRIORS


@pytest.fixture(scope="module")
def compiled():
    models = {
        "rademacher": build_model("rademacher"),
        "binary": build_model("binary", prior_parameters={"p": 0.3}),
        "gauss-bernoulli": build_model("gauss-bernoulli", prior_parameters={"rho": 0.3}),
    }
    return {name: NumpyModel(model, float(model.rho)) for name, model in models.items()}


def binary_moments(p, gamma):
    """Mean and variance of w in {-1, +1} under P(w) exp(gamma w), by mpmath."""
    plus = p * mpmath.exp(gamma)
    minus = (1 - p) * mpmath.exp(-gamma)
    mean = (plus - minus) / (plus + minus)
    return mean, 4 * plus * minus / (plus + minus) ** 2


def gauss_bernoulli_moments(rho, gamma, Lambda):
    """Mean and variance of w under ((1 - rho) delta(w) + rho N(w; 0, 1)) exp(gamma w - Lambda w^2 / 2)."""
    slab = rho * mpmath.exp(gamma**2 / (2 * (1 + Lambda))) / mpmath.sqrt(1 + Lambda)
    weight = slab / (slab + (1 - rho))
    slab_mean, slab_variance = gamma / (1 + Lambda), 1 / (1 + Lambda)
    mean = weight * slab_mean
    second = weight * (slab_variance + slab_mean**2)
    return mean, second - mean**2


@pytest.mark.parametrize("name", ["rademacher", "binary", "gauss-bernoulli"])
def test_prior_declared_in_catalog(name):
    prior = PRIORS[name].make("prior")
    assert sp.simplify(prior.expectation(sp.Integer(1))) == 1
    assert prior.is_mixture


@pytest.mark.parametrize("Sigma, R", [(1.0, 0.3), (1e-3, 0.02), (1e-6, -3e-6), (0.05, 1.0), (1e-8, 2e-7)])
def test_binary_moments_at_small_Sigma(compiled, Sigma, R):
    mpmath.mp.dps = 40
    mean, variance = binary_moments(mpmath.mpf("0.3"), mpmath.mpf(R) / mpmath.mpf(Sigma))
    nm = compiled["binary"]
    assert float(nm.f_w(np.array([Sigma]), np.array([R]))[0]) == pytest.approx(float(mean), rel=1e-13, abs=1e-300)
    assert float(nm.variance_w(np.array([Sigma]), np.array([R]))[0]) == pytest.approx(float(variance), rel=1e-12)


@pytest.mark.parametrize("Sigma, R", [(1.0, 0.3), (1e-3, 0.02), (1e-4, 0.3), (0.05, -1.0), (1e-6, 1e-4)])
def test_gauss_bernoulli_moments_match_mpmath(compiled, Sigma, R):
    mpmath.mp.dps = 40
    Sigma_mp, R_mp = mpmath.mpf(Sigma), mpmath.mpf(R)
    mean, variance = gauss_bernoulli_moments(mpmath.mpf("0.3"), R_mp / Sigma_mp, 1 / Sigma_mp)
    nm = compiled["gauss-bernoulli"]
    assert float(nm.f_w(np.array([Sigma]), np.array([R]))[0]) == pytest.approx(float(mean), rel=1e-12, abs=1e-300)
    assert float(nm.variance_w(np.array([Sigma]), np.array([R]))[0]) == pytest.approx(float(variance), rel=1e-11)


def teacher_V_mpmath(name, qhat):
    """V(qhat) = E[(w* - f_w)^2] = E[variance] over w* ~ P_0, gamma = qhat w* + sqrt(qhat) xi, by mpmath."""
    qhat = mpmath.mpf(qhat)
    if name in ("rademacher", "binary"):
        p = mpmath.mpf(1) / 2 if name == "rademacher" else mpmath.mpf("0.3")
        total = 0
        for w_star, weight in ((1, p), (-1, 1 - p)):
            center = -w_star * mpmath.sqrt(qhat)  # xi where gamma = 0, the peak of the variance
            integrand = lambda xi: mpmath.npdf(xi) * binary_moments(p, qhat * w_star + mpmath.sqrt(qhat) * xi)[1]
            total += weight * mpmath.quad(integrand, [-mpmath.inf, center - 1, center, center + 1, mpmath.inf])
        return total
    rho = mpmath.mpf("0.3")

    def variance_at(gamma):
        return gauss_bernoulli_moments(rho, gamma, qhat)[1]

    slab_spread = mpmath.sqrt(qhat**2 + qhat)
    points = [-mpmath.inf, -slab_spread, 0, slab_spread, mpmath.inf]
    spike = mpmath.quad(lambda g: mpmath.npdf(g, 0, mpmath.sqrt(qhat)) * variance_at(g), points)
    slab = mpmath.quad(lambda g: mpmath.npdf(g, 0, slab_spread) * variance_at(g), points)
    return (1 - rho) * spike + rho * slab


@pytest.mark.slow
@pytest.mark.parametrize("name", ["rademacher", "binary", "gauss-bernoulli"])
@pytest.mark.parametrize("qhat", [1e-3, 0.1, 1.0, 3.0, 10.0, 30.0, 60.0])
def test_V_of_qhat_matches_mpmath(compiled, name, qhat):
    mpmath.mp.dps = 30
    expected = float(teacher_V_mpmath(name, qhat))
    V = float(maps_for(compiled[name]).V_of(np.array([qhat]))[0])
    assert V == pytest.approx(expected, rel=1e-10)


def test_uninformative_point_is_the_prior_variance(compiled):
    assert maps_for(compiled["binary"]).V_uninformative == pytest.approx(1 - 0.4**2, rel=1e-15)
    assert maps_for(compiled["rademacher"]).V_uninformative == 1.0
    assert maps_for(compiled["gauss-bernoulli"]).V_uninformative == pytest.approx(0.3, rel=1e-15)


def test_mixture_priors_report_q_of_qhat_as_numeric(compiled, numpy_model):
    assert "q(qhat)" in maps_for(compiled["rademacher"]).numeric_objects
    assert "q(qhat)" not in maps_for(numpy_model).numeric_objects


@pytest.mark.parametrize("name, values, message", [
    ("binary", {"p": 0}, r"p = 0 is invalid for prior binary: .* \[0.001, 0.999\]"),
    ("binary", {"p": 1}, r"p = 1 is invalid"),
    ("gauss-bernoulli", {"rho": 0}, r"rho = 0 is invalid for prior gauss-bernoulli: .* \[0.001, 1\]"),
    ("gauss-bernoulli", {"rho": 1.5}, r"rho = 1.5 is invalid"),
    ("rademacher", {"p": 0.5}, r"p does not apply to prior rademacher"),
])
def test_prior_parameters_out_of_range_are_rejected(name, values, message):
    with pytest.raises(ValueError, match=message):
        build_model(name, prior_parameters=values)


def test_latex_of_rademacher_prior_derived_from_declaration():
    formulas = dict(model_formulas(build_model("rademacher")))
    assert r"\tanh{\left(\gamma \right)}" in formulas["f_w"]
    assert r"\tanh{\left(\frac{R}{\Sigma} \right)}" in formulas["f_w (GAMP)"]
