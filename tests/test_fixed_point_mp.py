"""Tests of the arbitrary-precision fixed point ``solve_fixed_point_mp``.

The checks evaluate the fixed-point equations with formulas written out here (the slides'
rho = 1 equation in xi, and its rescaled form in t), with mpmath's own functions, so they do
not reuse the derived and compiled integrand of the solver.
"""

import mpmath
import pytest

from replica_tools.solvers.fixed_point_mp import solve_fixed_point_mp
from replica_tools.symbolic import perceptron


def slides_qhat(alpha, q):
    """qhat = (2/pi) alpha / (1 - q) int D xi exp(-q xi^2 / (1 - q)) / (1 + erf(sqrt(q) xi / sqrt(2 (1 - q)))), rho = 1."""
    def integrand(xi):
        return (mpmath.npdf(xi) * mpmath.exp(-q * xi**2 / (1 - q))
                / mpmath.erfc(-mpmath.sqrt(q) * xi / mpmath.sqrt(2 * (1 - q))))
    # 1 + erf(x) = erfc(-x), which keeps its digits for x -> -oo.
    return 2 / mpmath.pi * alpha / (1 - q) * mpmath.quad(integrand, [-mpmath.inf, -5, 0, 5, mpmath.inf])


def rescaled_qhat(alpha, delta):
    """The same qhat in t = xi sqrt(q / delta), q = 1 - delta, for delta close to 0."""
    q = 1 - delta

    def integrand(t):
        # 1 + erf(t / sqrt 2) = erfc(-t / sqrt 2), which does not round to 0 for t -> -oo.
        return mpmath.exp(-t**2 - delta * t**2 / (2 * q)) / mpmath.erfc(-t / mpmath.sqrt(2))
    integral = mpmath.quad(integrand, [-mpmath.inf, -3, 0, 3, mpmath.inf])
    return alpha / mpmath.sqrt(delta * q) * (2 / mpmath.pi) / mpmath.sqrt(2 * mpmath.pi) * integral


@pytest.mark.parametrize("alpha", [0.01, 0.5, 2, 10])
def test_fixed_point_satisfies_slides_equation(model, alpha):
    point = solve_fixed_point_mp(model, alpha, dps=30)
    with mpmath.workdps(40):
        qhat = slides_qhat(mpmath.mpf(alpha), point.q)
        assert abs(qhat / point.qhat - 1) < mpmath.mpf(10) ** -27
        assert abs(qhat / (1 + qhat) / point.q - 1) < mpmath.mpf(10) ** -27


@pytest.mark.parametrize("alpha", [1000, 10**8])
def test_large_alpha_fixed_point_keeps_delta_digits(model, alpha):
    point = solve_fixed_point_mp(model, alpha, dps=30)
    with mpmath.workdps(60):
        qhat = rescaled_qhat(mpmath.mpf(alpha), point.delta)
        # delta = rho - q(qhat) = 1 / (1 + qhat) at rho = 1, written without a difference.
        assert abs(point.delta * (1 + qhat) - 1) < mpmath.mpf(10) ** -27


def test_large_alpha_errors_keep_digits(model):
    point = solve_fixed_point_mp(model, 10**8, dps=30)
    with mpmath.workdps(60):
        # arccos(sqrt(1 - delta)) = arcsin(sqrt(delta)) for delta in [0, 1]; asin has no cancellation.
        bayes = mpmath.asin(mpmath.sqrt(point.delta)) / mpmath.pi
        gibbs = 2 * mpmath.asin(mpmath.sqrt(point.delta / 2)) / mpmath.pi
        assert abs(point.eps_bayes / bayes - 1) < mpmath.mpf(10) ** -28
        assert abs(point.eps_gibbs / gibbs - 1) < mpmath.mpf(10) ** -28


def test_fixed_point_agrees_across_precisions(model):
    low = solve_fixed_point_mp(model, 2, dps=40)
    high = solve_fixed_point_mp(model, 2, dps=60)
    with mpmath.workdps(60):
        assert abs(low.q - high.q) < mpmath.mpf(10) ** -39
        assert abs(low.delta - high.delta) < mpmath.mpf(10) ** -39
        assert abs(low.eps_bayes - high.eps_bayes) < mpmath.mpf(10) ** -39


def test_fixed_point_reports_dps_and_residual(model):
    point = solve_fixed_point_mp(model, 1, dps=40)
    assert point.dps == 40
    assert point.residual < mpmath.mpf(10) ** -40


def test_fixed_point_scales_with_rho(model):
    unit = solve_fixed_point_mp(model, 3, dps=30)
    doubled = solve_fixed_point_mp(model, 3, dps=30, rho=2)
    with mpmath.workdps(30):
        # y = sign(X w* / sqrt(n)) does not change when w* is scaled, so q / rho and the errors
        # do not depend on rho.
        assert abs(doubled.q / 2 - unit.q) < mpmath.mpf(10) ** -28
        assert abs(doubled.eps_bayes - unit.eps_bayes) < mpmath.mpf(10) ** -28


def test_fixed_point_uses_numeric_model_rho():
    point = solve_fixed_point_mp(perceptron(rho=2), 3, dps=20)
    assert point.rho == 2


def test_fixed_point_rejects_conflicting_rho():
    with pytest.raises(ValueError, match="rho = 3"):
        solve_fixed_point_mp(perceptron(rho=2), 3, dps=20, rho=3)


@pytest.mark.parametrize("alpha", [0, -1, float("nan"), float("inf"), "many"])
def test_fixed_point_rejects_bad_alpha(model, alpha):
    with pytest.raises(ValueError, match="alpha"):
        solve_fixed_point_mp(model, alpha)


@pytest.mark.parametrize("dps", [5, 2000, 30.5, True])
def test_fixed_point_rejects_bad_dps(model, dps):
    with pytest.raises(ValueError, match="dps"):
        solve_fixed_point_mp(model, 1, dps=dps)


def test_fixed_point_rejects_bad_rho(model):
    with pytest.raises(ValueError, match="rho"):
        solve_fixed_point_mp(model, 1, rho=-1)
