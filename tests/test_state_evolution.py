"""NumPy state evolution against an independent mpmath solve of the sign-perceptron fixed point."""

import mpmath
import numpy as np
import pytest

from replica_tools.solvers.state_evolution import solve_fixed_point, state_evolution_trajectory


def reference_fixed_point(alpha, rho=1, dps=30):
    """Solve V = rho / (1 + rho qhat(V)) with qhat written from H(-y omega/sqrt V) by hand.

    qhat(V) = alpha (2 / V) E_xi[N(u)^2 / Phi(u)], u = sqrt(q / V) xi, integrated in u by
    tanh-sinh, and the root found by the Illinois method on log V over a bracket.
    """
    with mpmath.workdps(dps):
        alpha, rho = mpmath.mpf(alpha), mpmath.mpf(rho)

        def qhat_of(V):
            q = rho - V
            kappa = mpmath.sqrt(V / q)
            integral = mpmath.quad(
                lambda u: kappa * mpmath.npdf(kappa * u) * mpmath.npdf(u) ** 2 / mpmath.ncdf(u),
                [-mpmath.inf, -10, -3, 0, 3, mpmath.inf],
            )
            return alpha * 2 * integral / V

        def residual(log_V):
            V = mpmath.exp(log_V)
            return log_V - mpmath.log(rho / (1 + rho * qhat_of(V)))

        log_V = mpmath.findroot(residual, (mpmath.log(rho) - 40, mpmath.log(rho) - mpmath.mpf("1e-30")),
                                solver="illinois", tol=mpmath.mpf(10) ** (-dps + 5))
        V = mpmath.exp(log_V)
        q = rho - V
        return {
            "q": q,
            "qhat": qhat_of(V),
            "eps_bayes": mpmath.acos(mpmath.sqrt(q / rho)) / mpmath.pi,
            "eps_gibbs": mpmath.acos(q / rho) / mpmath.pi,
        }


ALPHAS = [0.01, 0.5, 1.0, 2.0, 10.0, 1000.0, 1e4]


@pytest.fixture(scope="module")
def fixed_points(numpy_model):
    return solve_fixed_point(numpy_model, np.array(ALPHAS))


@pytest.mark.parametrize("index", range(len(ALPHAS)))
def test_fixed_point_matches_mpmath(fixed_points, index):
    reference = reference_fixed_point(ALPHAS[index])
    assert abs(fixed_points.q[index] - float(reference["q"])) <= 1e-10
    assert abs(fixed_points.eps_bayes[index] - float(reference["eps_bayes"])) <= 1e-10
    assert abs(fixed_points.eps_gibbs[index] - float(reference["eps_gibbs"])) <= 1e-10
    assert abs(fixed_points.qhat[index] - float(reference["qhat"])) <= 1e-10 * float(reference["qhat"])


def test_fixed_point_for_other_rho(model):
    from replica_tools.numerics.compiled import NumpyModel

    numpy_model = NumpyModel(model, 2.5)
    fixed_point = solve_fixed_point(numpy_model, np.array([3.0]))
    reference = reference_fixed_point(3.0, rho="2.5")
    assert abs(fixed_point.q[0] - float(reference["q"])) <= 1e-10
    assert abs(fixed_point.eps_bayes[0] - float(reference["eps_bayes"])) <= 1e-10


def test_learning_curve_decreases(fixed_points):
    assert np.all(np.diff(fixed_points.eps_bayes) < 0)
    assert np.all(fixed_points.eps_gibbs > fixed_points.eps_bayes)


def test_trajectory_reaches_fixed_point(numpy_model, fixed_points):
    trajectory = state_evolution_trajectory(numpy_model, 2.0, steps=200)
    assert trajectory[0] == 0.0
    assert np.all(np.diff(trajectory) >= -1e-15)
    assert abs(trajectory[-1] - fixed_points.q[ALPHAS.index(2.0)]) <= 1e-12


@pytest.mark.parametrize("alpha", [0.0, -1.0, float("nan"), float("inf")])
def test_invalid_alpha_rejected(numpy_model, alpha):
    with pytest.raises(ValueError, match="alpha"):
        solve_fixed_point(numpy_model, np.array([1.0, alpha]))


@pytest.mark.parametrize("rho", [1e-6, 0.05, 0.1, 3.0, 10.0, 100.0, 1e6])
def test_eps_bayes_independent_of_rho(model, rho):
    # sign(X w*) does not change when w* is scaled, so the learning curve cannot depend on rho.
    from replica_tools.numerics.compiled import NumpyModel

    alpha = np.array([1e-6, 0.3, 2.0, 1e3, 1e8])
    scaled = solve_fixed_point(NumpyModel(model, rho), alpha)
    reference = solve_fixed_point(NumpyModel(model, 1.0), alpha)
    np.testing.assert_allclose(scaled.eps_bayes, reference.eps_bayes, rtol=1e-11, atol=0)
    # q = rho - V carries an absolute, not relative, error of a few ulps of rho.
    np.testing.assert_allclose(scaled.q / rho, reference.q, rtol=0, atol=1e-14)


@pytest.mark.parametrize("alpha", [1e-6, 1e8])
def test_fixed_point_at_range_ends(numpy_model, alpha):
    fixed_point = solve_fixed_point(numpy_model, np.array([alpha]))
    reference = reference_fixed_point(alpha)
    assert abs(fixed_point.eps_bayes[0] - float(reference["eps_bayes"])) <= 1e-12
    assert abs(fixed_point.V[0] - float(1 - reference["q"])) <= 1e-10 * float(1 - reference["q"])
