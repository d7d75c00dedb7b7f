"""Branches of fixed points, the RS free entropy of each, and GAMP on the binary perceptron.

Expected values: the perfect-point limit -H(P_0) derived by hand (log 2 for Rademacher weights),
Psi_out(q = 0) = -log 2 for the sign channel, the Gaussian prior's Psi_w in closed form
rho qhat / 2 - log(1 + rho qhat) / 2, and the saddle-point identity q = 2 dPsi_w / dqhat by finite
differences of an independent quadrature.
"""

import math

import numpy as np
import pytest

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.branches import FreeEntropy, equilibrium, follow_branches, same_fixed_point
from replica_tools.solvers.gamp import default_damping, run_gamp
from replica_tools.symbolic.catalog import build_model


@pytest.fixture(scope="module")
def rademacher():
    return NumpyModel(build_model("rademacher"), 1.0)


@pytest.fixture(scope="module")
def binary():
    return NumpyModel(build_model("binary", prior_parameters={"p": 0.3}), 1.0)


@pytest.fixture(scope="module")
def gaussian():
    return NumpyModel(build_model("gaussian", prior_parameters={"rho": 2.0}), 2.0)


@pytest.mark.parametrize("name, entropy", [
    ("rademacher", math.log(2)),
    ("binary", -(0.3 * math.log(0.3) + 0.7 * math.log(0.7))),
])
def test_phi_limit_is_minus_entropy(request, name, entropy):
    free_entropy = FreeEntropy(request.getfixturevalue(name))
    assert free_entropy.phi_perfect(1.0) == pytest.approx(-entropy, rel=1e-14)
    qhat = np.array([60.0])
    V = free_entropy.maps.V_of(qhat)
    # The correction falls like exp(-qhat / 2) up to powers of qhat.
    assert float(free_entropy.phi(1.0, V, qhat)[0]) == pytest.approx(-entropy, abs=1e-6)


def test_sign_psi_out_at_zero_overlap(rademacher):
    free_entropy = FreeEntropy(rademacher)
    assert float(free_entropy.Psi_out(np.array([1.0]))[0]) == pytest.approx(-math.log(2), rel=1e-13)
    assert free_entropy.Psi_out_perfect == 0.0


def test_gaussian_psi_w_matches_closed_form(gaussian):
    maps = FreeEntropy(gaussian).maps
    qhat = np.array([1e-3, 0.5, 3.0, 40.0])
    expected = 2.0 * qhat / 2 - np.log1p(2.0 * qhat) / 2
    np.testing.assert_allclose(maps.input_map.Psi_w(qhat), expected, rtol=1e-11)


@pytest.mark.parametrize("name", ["rademacher", "binary"])
@pytest.mark.parametrize("qhat", [0.2, 1.5, 6.0])
def test_q_is_twice_derivative_of_psi_w(request, name, qhat):
    maps = FreeEntropy(request.getfixturevalue(name)).maps
    step = 1e-4 * qhat
    points = qhat + step * np.array([-2.0, -1.0, 1.0, 2.0])
    Psi = maps.input_map.Psi_w(points)
    derivative = (Psi[0] - 8 * Psi[1] + 8 * Psi[2] - Psi[3]) / (12 * step)
    assert 2 * derivative == pytest.approx(float(maps.input_map.q_of(np.array([qhat]))[0]), rel=1e-8)


def test_rademacher_has_two_branches_below_the_spinodal(rademacher):
    branches = follow_branches(rademacher, np.array([0.5, 1.0, 1.4, 2.0]))
    uninformative, informed = branches["uninformative"], branches["informed"]
    assert list(informed.perfect) == [True, True, True, True]
    assert list(uninformative.perfect) == [False, False, False, True]
    assert list(same_fixed_point(uninformative, informed)) == [False, False, False, True]
    _, _, eps, which = equilibrium(branches)
    # Between alpha_IT ~ 1.245 and alpha_alg ~ 1.49 the perfect point is the equilibrium.
    assert list(which[:3]) == ["uninformative", "uninformative", "informed"]
    assert eps[2] == 0.0


def test_gaussian_prior_has_one_branch(gaussian):
    branches = follow_branches(gaussian, np.geomspace(0.1, 20, 9))
    assert same_fixed_point(branches["uninformative"], branches["informed"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [1.3, 1.7])
def test_gamp_follows_the_branch_of_its_start(rademacher, alpha):
    """Below alpha_alg GAMP stays on the uninformative branch, above it reaches the teacher."""
    branch = follow_branches(rademacher, np.array([alpha]))["uninformative"]
    for seed in range(3):
        result = run_gamp(rademacher, alpha, 2000, seed, damping=default_damping(rademacher), max_iter=300)
        m = result.m_history[-1]
        if alpha < 1.49:
            # Finite-size spread of the overlap at n = 2000 is about 0.02 (measured over seeds).
            assert abs(m - branch.q[0]) < 0.05
            assert m < 0.9
        else:
            assert branch.perfect[0]
            assert m > 0.999
            assert result.test_error < 1e-3


def test_gamp_on_sparse_prior_matches_state_evolution():
    nm = NumpyModel(build_model("gauss-bernoulli", prior_parameters={"rho": 0.3}), 0.3)
    q = follow_branches(nm, np.array([2.0]))["uninformative"].q[0]
    for seed in range(2):
        m = run_gamp(nm, 2.0, 1000, seed, damping=default_damping(nm)).m_history[-1]
        # Spread over seeds at n = 1000 was about 0.004 (measured), against q = 0.266.
        assert abs(m - q) < 0.02


def test_merged_fixed_point_is_named_by_its_branch(rademacher):
    """Beyond alpha_alg ~ 1.49 both starts reach the perfect point, which is the informed branch."""
    branches = follow_branches(rademacher, np.array([1.0, 1.3, 1.6, 2.0, 3.0]))
    _, _, eps, which = equilibrium(branches, informed_qhat=10.0)
    assert list(which) == ["uninformative", "informed", "informed", "informed", "informed"]
    assert list(eps[1:]) == [0.0] * 4


def test_single_branch_keeps_the_uninformative_name(gaussian):
    alpha = np.geomspace(0.1, 20, 5)
    _, _, _, which = equilibrium(follow_branches(gaussian, alpha))
    assert list(which) == ["uninformative"] * 5
