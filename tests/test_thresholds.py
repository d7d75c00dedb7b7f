"""The algorithmic and the information-theoretic thresholds, each located by two routes.

The routes share only the compiled maps. alpha_alg comes from the maximum of alpha(qhat) along
the fixed-point curve and from a bisection in alpha on where the state evolution from the
uninformative start escapes. alpha_IT comes from Brent's method on the difference of the free
entropies (Psi_w by quadrature) and from Newton's method on the integral of Psi_out over alpha. The
literature places the transitions of the Rademacher perceptron near alpha_IT = 1.245 and
alpha_alg = 1.49.
"""

import numpy as np
import pytest

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.branches import follow_branches
from replica_tools.solvers.thresholds import locate_thresholds
from replica_tools.symbolic.catalog import build_model


@pytest.fixture(scope="module")
def rademacher_thresholds():
    return locate_thresholds(NumpyModel(build_model("rademacher"), 1.0), check=True)


@pytest.mark.slow
def test_rademacher_spinodal_routes_agree(rademacher_thresholds):
    assert abs(rademacher_thresholds.alpha_alg - rademacher_thresholds.alpha_alg_check) < 1e-7


@pytest.mark.slow
def test_rademacher_it_threshold_routes_agree(rademacher_thresholds):
    assert abs(rademacher_thresholds.alpha_it - rademacher_thresholds.alpha_it_check) < 1e-7


@pytest.mark.slow
def test_rademacher_thresholds_near_published_values(rademacher_thresholds):
    assert rademacher_thresholds.alpha_it == pytest.approx(1.245, abs=2e-3)
    assert rademacher_thresholds.alpha_alg == pytest.approx(1.49, abs=5e-3)
    assert rademacher_thresholds.perfect_branch
    assert rademacher_thresholds.branch_count == 2


@pytest.mark.slow
def test_branches_change_at_the_thresholds(rademacher_thresholds):
    """Just below alpha_alg SE from q = 0 is stuck; just above it reaches the perfect point."""
    alpha_alg = rademacher_thresholds.alpha_alg
    alpha_it = rademacher_thresholds.alpha_it
    nm = NumpyModel(build_model("rademacher"), 1.0)
    branches = follow_branches(nm, np.array([alpha_it - 1e-6, alpha_it + 1e-6, alpha_alg - 1e-4, alpha_alg + 1e-4]))
    uninformative, informed = branches["uninformative"], branches["informed"]
    assert list(uninformative.perfect) == [False, False, False, True]
    assert uninformative.phi[0] > informed.phi[0]
    assert uninformative.phi[1] < informed.phi[1]


def test_gaussian_prior_has_no_threshold():
    thresholds = locate_thresholds(NumpyModel(build_model("gaussian"), 1.0))
    assert thresholds.alpha_alg is None
    assert thresholds.alpha_it is None
    assert "no fold" in thresholds.reasons["alpha_it"]
    assert thresholds.branch_count == 1


@pytest.mark.slow
def test_biased_binary_routes_agree():
    thresholds = locate_thresholds(NumpyModel(build_model("binary", prior_parameters={"p": 0.3}), 1.0), check=True)
    assert abs(thresholds.alpha_alg - thresholds.alpha_alg_check) < 1e-7
    assert abs(thresholds.alpha_it - thresholds.alpha_it_check) < 1e-7
    # A bias gives the student part of the teacher before any sample, so both thresholds fall.
    assert thresholds.alpha_it < 1.2
    assert thresholds.alpha_alg < 1.45


@pytest.mark.slow
def test_binary_thresholds_symmetric_in_p():
    """w -> -w maps P(w = +1) = p to 1 - p and the sign labels to their negatives, which changes no overlap."""
    low = locate_thresholds(NumpyModel(build_model("binary", prior_parameters={"p": 0.3}), 1.0))
    high = locate_thresholds(NumpyModel(build_model("binary", prior_parameters={"p": 0.7}), 1.0))
    assert high.alpha_it == pytest.approx(low.alpha_it, abs=1e-9)
    assert high.alpha_alg == pytest.approx(low.alpha_alg, abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("eta", [0.07, 0.1, 0.3])
def test_sign_flip_it_routes_agree(eta):
    """The perfect branch of a noisy channel starts at a small alpha, below which both starts meet.

    alpha_IT must be a crossing of two distinct branches, not the lower end of the search, where
    the difference of free entropies is 0 because both starts reach the same fixed point.
    """
    nm = NumpyModel(build_model("rademacher", "sign-flip", channel_parameters={"eta": eta}), 1.0)
    thresholds = locate_thresholds(nm, check=True)
    assert abs(thresholds.alpha_it - thresholds.alpha_it_check) < 1e-8 * thresholds.alpha_it
    assert abs(thresholds.alpha_alg - thresholds.alpha_alg_check) < 1e-8 * thresholds.alpha_alg
    alpha_it = thresholds.alpha_it
    branches = follow_branches(nm, np.array([alpha_it * (1 - 1e-4), alpha_it * (1 + 1e-4)]))
    uninformative, informed = branches["uninformative"], branches["informed"]
    assert list(informed.perfect) == [True, True]
    assert uninformative.phi[0] > informed.phi[0]
    assert uninformative.phi[1] < informed.phi[1]
