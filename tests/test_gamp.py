"""GAMP on the teacher-student perceptron, checked against state evolution and against itself."""

import logging
import math
from types import SimpleNamespace

import numpy as np
import pytest

from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.gamp import (
    VARIANTS,
    GampDivergenceError,
    InputProducts,
    InsufficientMemoryError,
    draw_inputs,
    estimate_test_error,
    gamp,
    make_instance,
    overlap_error,
    run_gamp,
)
from replica_tools.solvers.state_evolution import solve_fixed_point, state_evolution_trajectory
from replica_tools.symbolic import perceptron

# The trajectory test runs at rho != 1, so that a place where the code assumes a unit teacher norm
# shows up as a failure. The other tests use the session's rho = 1 model, which costs no compile.
RHO_TRAJECTORY = 2.0


@pytest.fixture(scope="module")
def nm_rho_2():
    return NumpyModel(perceptron(), RHO_TRAJECTORY)


@pytest.fixture
def nm(numpy_model):
    return numpy_model


def overlap_tolerance(n):
    """Allowed |GAMP overlap - SE overlap| at dimension n.

    m_t and q_t are averages over n weights, so they fluctuate around SE by O(1/sqrt(n)). The
    teacher norm |w*|^2 / n alone has standard deviation sqrt(2 / n) rho. Over 30 seeds at n = 500
    and 8 at n = 2000 (alpha = 1 and 3, rho = 1), sqrt(n) times the deviation had a standard
    deviation of at most 0.65 and never exceeded 1.6. Dropping the Onsager term moves it to 6 at
    n = 2000, so a bound of 3 / sqrt(n) separates noise from a wrong update.
    """
    return 3.0 / math.sqrt(n)


@pytest.mark.parametrize("alpha", [1.0, 3.0])
def test_overlaps_follow_se_trajectory(nm_rho_2, alpha):
    # Per-component variant (the default), one instance.
    n, steps = 2000, 6
    instance = make_instance(alpha, n, RHO_TRAJECTORY, seed=11)
    result = gamp(nm_rho_2, instance.X, instance.y, w_star=instance.w_star, max_iter=steps, tol=1e-14)
    q_se = state_evolution_trajectory(nm_rho_2, alpha, steps, q0=0.0)
    tolerance = overlap_tolerance(n)

    assert result.iterations == steps
    # Bayes-optimal GAMP has m_t = q_t = q_t^SE at every step (Nishimori), from the same start.
    for t in range(1, steps + 1):
        assert abs(result.m_history[t] - q_se[t]) < tolerance, f"m_t at t = {t}"
        assert abs(result.q_history[t] - q_se[t]) < tolerance, f"q_t at t = {t}"


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [1.0, 3.0])
def test_gamp_error_matches_se_eps_bayes(nm, alpha):
    """Compare GAMP's error over 8 seeds with eps_bayes of the SE fixed point.

    GAMP's w_hat is the posterior mean, and sign(x . w_hat) is the Bayes-optimal classifier for a
    Gaussian posterior, so the fair comparison is with eps_bayes = arccos(sqrt(q / rho)) / pi,
    not eps_gibbs. The overlap error is the exact expected test error of the instance's w_hat, so
    its spread over seeds is the instance-to-instance spread only. The test error adds the
    binomial noise of n_test samples and is checked with its own, wider standard error.
    """
    n, seeds = 2000, range(8)
    results = [run_gamp(nm, alpha, n, seed) for seed in seeds]
    eps_bayes = float(np.squeeze(solve_fixed_point(nm, alpha).eps_bayes))

    overlap_errors = np.array([result.overlap_error for result in results])
    test_errors = np.array([result.test_error for result in results])
    overlap_standard_error = overlap_errors.std(ddof=1) / math.sqrt(len(results))
    test_standard_error = test_errors.std(ddof=1) / math.sqrt(len(results))

    assert all(result.converged for result in results)
    assert abs(overlap_errors.mean() - eps_bayes) < 3 * overlap_standard_error
    assert abs(test_errors.mean() - eps_bayes) < 3 * test_standard_error


def test_test_error_matches_overlap_error(nm):
    # For Gaussian inputs P(sign(x . a) != sign(x . b)) = arccos(cos angle(a, b)) / pi, so a large
    # test set must reproduce the overlap error within its binomial standard error.
    result = run_gamp(nm, 2.0, 300, seed=5, n_test=100_000)
    eps = result.overlap_error
    binomial_standard_error = math.sqrt(eps * (1 - eps) / 100_000)

    assert abs(result.test_error - eps) < 4 * binomial_standard_error


def test_estimate_test_error_of_orthogonal_weights():
    # Orthogonal w_hat and w* give independent signs, so half the labels disagree.
    w_star = np.array([1.0, 0.0, 0.0])
    w_hat = np.array([0.0, 1.0, 0.0])
    rng = np.random.default_rng(0)
    n_test = 3_000_001  # more than one block, and not a multiple of the block size

    error = estimate_test_error(w_hat, w_star, n_test, rng)

    assert abs(error - 0.5) < 4 * math.sqrt(0.25 / n_test)


def test_overlap_error_known_angles():
    assert overlap_error(1.0, 1.0, 1.0) == 0.0
    assert overlap_error(0.0, 1.0, 1.0) == pytest.approx(0.5)
    assert overlap_error(0.5, 1.0, 1.0) == pytest.approx(1.0 / 3.0)
    assert overlap_error(-2.0, 2.0, 2.0) == pytest.approx(1.0)


def test_run_gamp_same_seed_identical(nm):
    first = run_gamp(nm, 2.0, 300, seed=3, n_test=2000)
    second = run_gamp(nm, 2.0, 300, seed=3, n_test=2000)

    assert np.array_equal(first.w_hat, second.w_hat)
    assert np.array_equal(first.v, second.v)
    assert np.array_equal(first.m_history, second.m_history)
    assert np.array_equal(first.q_history, second.q_history)
    assert first.test_error == second.test_error
    assert first.iterations == second.iterations


def test_run_gamp_other_seed_differs(nm):
    first = run_gamp(nm, 2.0, 300, seed=3, n_test=2000)
    second = run_gamp(nm, 2.0, 300, seed=4, n_test=2000)

    assert not np.array_equal(first.w_hat, second.w_hat)


def test_run_gamp_records_run_settings(nm):
    result = run_gamp(nm, 1.5, 301, seed=2, n_test=1000)

    assert result.alpha == 1.5
    assert result.n == 301
    assert result.seed == 2
    assert result.w_hat.shape == (301,)
    assert len(result.m_history) == result.iterations + 1
    assert len(result.q_history) == result.iterations + 1
    assert result.m_history[0] == 0.0


def test_make_instance_labels_and_shapes():
    alpha, n, rho = 2.5, 401, 2.0
    instance = make_instance(alpha, n, rho, seed=9)
    m = round(alpha * n)
    teacher_norm = instance.w_star @ instance.w_star / n

    assert instance.X.shape == (m, n)
    assert instance.y.shape == (m,)
    assert np.array_equal(instance.y, np.sign(instance.X @ instance.w_star / math.sqrt(n)))
    # |w*|^2 / n has mean rho and standard deviation sqrt(2 / n) rho.
    assert abs(teacher_norm - rho) < 5 * math.sqrt(2.0 / n) * rho


def test_damped_gamp_reaches_same_fixed_point(nm):
    instance = make_instance(3.0, 500, nm.rho, seed=1)
    plain = gamp(nm, instance.X, instance.y, w_star=instance.w_star, tol=1e-12, max_iter=500)
    damped = gamp(nm, instance.X, instance.y, w_star=instance.w_star, damping=0.5, tol=1e-12, max_iter=500)

    assert plain.converged
    assert damped.converged
    assert damped.iterations > plain.iterations
    # Damping changes the path, not the fixed point. With tol = 1e-12 both runs stopped about 2e-5
    # apart in max norm (4 seeds measured), so 1e-4 leaves a margin of 5.
    assert np.max(np.abs(damped.w_hat - plain.w_hat)) < 1e-4


def test_gamp_without_teacher_omits_m(nm):
    instance = make_instance(2.0, 200, nm.rho, seed=0)
    result = gamp(nm, instance.X, instance.y)

    assert result.m_history is None
    assert result.overlap_error is None
    assert len(result.q_history) == result.iterations + 1


def test_progress_receives_every_iteration(nm):
    instance = make_instance(2.0, 200, nm.rho, seed=0)
    calls = []
    result = gamp(nm, instance.X, instance.y, w_star=instance.w_star,
                  progress=lambda t, m, q: calls.append((t, m, q)))

    assert [call[0] for call in calls] == list(range(result.iterations + 1))
    assert [call[1] for call in calls] == list(result.m_history)
    assert [call[2] for call in calls] == list(result.q_history)


def test_max_iter_reached_warns_not_raises(nm, caplog):
    instance = make_instance(3.0, 200, nm.rho, seed=0)
    with caplog.at_level(logging.WARNING, logger="replica_tools.solvers.gamp"):
        result = gamp(nm, instance.X, instance.y, max_iter=2)

    assert result.converged is False
    assert result.iterations == 2
    assert "did not converge" in caplog.text


def test_nonzero_mean_inputs_diverge(nm):
    # The Onsager term is derived for zero-mean i.i.d. inputs, and a common mean of 1 in X makes
    # the iteration run away.
    rng = np.random.default_rng(0)
    w_star = rng.normal(0.0, math.sqrt(nm.rho), 200)
    X = rng.standard_normal((600, 200)) + 1.0
    y = np.sign(X @ w_star)

    with np.errstate(all="ignore"), pytest.raises(GampDivergenceError, match="diverged at iteration"):
        gamp(nm, X, y, w_star=w_star)


def test_overflowing_inputs_diverge(nm):
    # X is finite but X**2 overflows, so V is infinite and omega = 0 - inf * 0 is NaN.
    instance = make_instance(2.0, 100, nm.rho, seed=0)
    X = instance.X * 1e160

    with np.errstate(all="ignore"), pytest.raises(GampDivergenceError, match="iteration 1: omega"):
        gamp(nm, X, instance.y)


def test_positive_df_out_diverges():
    # A channel with d_omega f_out > 0 (not log-concave) gives Sigma < 0 at the first step.
    stub = SimpleNamespace(
        rho=1.0,
        labels=(-1, 1),
        f_out=lambda y, omega, V: np.zeros_like(omega),
        df_out=lambda y, omega, V: np.ones_like(omega),
        f_w=lambda Sigma, R: R,
        variance_w=lambda Sigma, R: Sigma,
    )
    instance = make_instance(2.0, 50, 1.0, seed=0)

    with pytest.raises(GampDivergenceError, match="iteration 1: Sigma is non-positive"):
        gamp(stub, instance.X, instance.y)


def test_small_alpha_stays_finite(nm):
    # At alpha = 0.01, Sigma is about pi rho / (2 alpha), so |R| reaches 40 sqrt(rho) among 2000
    # weights. A form of f_w with exp(R^2 / (2 rho)) in numerator and denominator overflows there.
    result = run_gamp(nm, 0.01, 2000, seed=0, n_test=1000)

    assert result.converged


@pytest.mark.parametrize("settings, name", [
    ({"alpha": 0.0}, "alpha"),
    ({"alpha": -1.0}, "alpha"),
    ({"alpha": math.inf}, "alpha"),
    ({"alpha": math.nan}, "alpha"),
    ({"alpha": 1e-4}, "alpha"),
    ({"n": 1}, "n"),
    ({"n": 2.5}, "n"),
    ({"damping": -0.1}, "damping"),
    ({"damping": 1.0}, "damping"),
    ({"tol": 0.0}, "tol"),
    ({"tol": -1e-8}, "tol"),
    ({"tol": math.nan}, "tol"),
    ({"max_iter": 0}, "max_iter"),
    ({"max_iter": 1.5}, "max_iter"),
    ({"n_test": 0}, "n_test"),
    ({"seed": -1}, "seed"),
])
def test_run_gamp_rejects_invalid_setting(nm, settings, name):
    arguments = {"alpha": 2.0, "n": 100, "seed": 0} | settings
    alpha, n, seed = arguments.pop("alpha"), arguments.pop("n"), arguments.pop("seed")

    with pytest.raises(ValueError, match=rf"^{name} = "):
        run_gamp(nm, alpha, n, seed, **arguments)


def test_make_instance_rejects_invalid_rho():
    with pytest.raises(ValueError, match="rho = "):
        make_instance(2.0, 100, -1.0, seed=0)


def test_gamp_rejects_nan_label(nm):
    instance = make_instance(2.0, 100, nm.rho, seed=0)
    y = instance.y.copy()
    y[3] = np.nan

    with pytest.raises(ValueError, match="invalid labels"):
        gamp(nm, instance.X, y)


def test_gamp_rejects_label_outside_set(nm):
    instance = make_instance(2.0, 100, nm.rho, seed=0)
    y = instance.y.copy()
    y[0] = 0.0

    with pytest.raises(ValueError, match="invalid labels"):
        gamp(nm, instance.X, y)


def test_gamp_rejects_nan_input(nm):
    instance = make_instance(2.0, 100, nm.rho, seed=0)
    X = instance.X.copy()
    X[5, 7] = np.nan

    with pytest.raises(ValueError, match="X contains NaN"):
        gamp(nm, X, instance.y)


def test_gamp_rejects_mismatched_shapes(nm):
    instance = make_instance(2.0, 100, nm.rho, seed=0)

    with pytest.raises(ValueError, match="y has shape"):
        gamp(nm, instance.X, instance.y[:-1])
    with pytest.raises(ValueError, match="w_star has shape"):
        gamp(nm, instance.X, instance.y, w_star=instance.w_star[:-1])
    with pytest.raises(ValueError, match="X has shape"):
        gamp(nm, instance.X[0], instance.y)


def test_heavy_damping_not_converged_early(nm):
    # With damping 0.999999 each step moves w_hat by 1e-6 of the update. The tolerance applies to
    # the undamped change, so the run cannot stop after one step.
    instance = make_instance(2.0, 300, nm.rho, seed=0)
    result = gamp(nm, instance.X, instance.y, w_star=instance.w_star, damping=0.999999, max_iter=5)

    assert result.iterations == 5
    assert not result.converged


@pytest.fixture(scope="module")
def trajectories_n4000(numpy_model):
    """m_t and q_t for t = 0 .. 10 over 10 seeds at n = 4000, alpha = 2, for both variants.

    Both variants run on the same instances, so the instances are drawn once.
    """
    alpha, n, seeds, steps = 2.0, 4000, range(10), 10
    histories = {variant: {"m": [], "q": []} for variant in VARIANTS}
    for seed in seeds:
        instance = make_instance(alpha, n, numpy_model.rho, seed)
        for variant in VARIANTS:
            result = gamp(numpy_model, instance.X, instance.y, w_star=instance.w_star, max_iter=steps,
                          tol=1e-300, variant=variant)
            histories[variant]["m"].append(result.m_history)
            histories[variant]["q"].append(result.q_history)
    q_se = state_evolution_trajectory(numpy_model, alpha, steps, q0=0.0)
    return histories, q_se


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("overlap", ["m", "q"])
def test_per_iteration_overlaps_within_3_sem(trajectories_n4000, variant, overlap):
    """Compare the seed mean of m_t and q_t with SE at every t = 1 .. 10, n = 4000.

    The standard error is the spread over the 10 seeds, std(ddof=1) / sqrt(10). In the runs
    measured the seed mean stayed within 0.92 standard errors of SE. With the Onsager term
    removed, m_t was up to 86 standard errors away (4 seeds, per-component variant).
    """
    histories, q_se = trajectories_n4000
    values = np.array(histories[variant][overlap])
    mean = values.mean(axis=0)
    standard_error = values.std(axis=0, ddof=1) / math.sqrt(values.shape[0])

    assert values.shape == (10, 11)
    for t in range(1, 11):
        assert abs(mean[t] - q_se[t]) < 3 * standard_error[t], f"{overlap}_t at t = {t}"


def test_draw_inputs_independent_of_block_size():
    m, n = 53, 17
    w_star = np.random.default_rng(1).standard_normal(n)
    whole = np.random.default_rng(7).standard_normal((m, n))

    for block_rows in (1, 7, 53, 1000, None):
        X, z = draw_inputs(m, n, np.random.default_rng(7), block_rows=block_rows, w_star=w_star)
        assert np.array_equal(X, whole), block_rows
        assert np.allclose(z, whole @ w_star / math.sqrt(n), rtol=1e-14, atol=1e-14), block_rows


def test_float32_instance_is_rounded_float64():
    double = make_instance(2.0, 300, 1.0, seed=4)
    single = make_instance(2.0, 300, 1.0, seed=4, dtype="float32", block_rows=5)

    assert single.X.dtype == np.float32
    assert np.array_equal(single.X, double.X.astype(np.float32))
    assert np.array_equal(single.y, double.y)
    assert np.array_equal(single.w_star, double.w_star)


def test_make_instance_same_for_any_block_size():
    first = make_instance(1.5, 120, 1.0, seed=2, block_rows=1)
    second = make_instance(1.5, 120, 1.0, seed=2)

    assert np.array_equal(first.X, second.X)
    assert np.array_equal(first.y, second.y)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 1e-5)])
def test_per_component_products_match_squared_matrix(dtype, rtol):
    # Second method: X**2 formed in full, in float64.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((700, 300))
    w_hat, v = rng.standard_normal(300), rng.uniform(0.1, 1.0, 300)
    g, dg = rng.standard_normal(700), -rng.uniform(0.1, 1.0, 700)
    products = InputProducts(X.astype(dtype), "per_component")
    assert products.block_rows < 700  # several blocks, the last one partial

    projection, V = products.forward(w_hat, v)
    back_projection, precision = products.backward(g, dg)

    assert np.allclose(projection, X @ w_hat, rtol=rtol, atol=rtol * 30)
    assert np.allclose(V, np.square(X) @ v / 300, rtol=rtol)
    assert np.allclose(back_projection, X.T @ g, rtol=rtol, atol=rtol * 30)
    assert np.allclose(precision, -(np.square(X).T @ dg) / 300, rtol=rtol)


def test_scalar_products_use_mean_square():
    rng = np.random.default_rng(3)
    X = 1.5 * rng.standard_normal((400, 200))
    v, dg = rng.uniform(0.1, 1.0, 200), -rng.uniform(0.1, 1.0, 400)
    products = InputProducts(X, "scalar")
    mean_square = float(np.mean(np.square(X)))

    _, V = products.forward(np.zeros(200), v)
    _, precision = products.backward(np.zeros(400), dg)

    assert products.mean_square == pytest.approx(mean_square, rel=1e-12)
    assert np.allclose(V, mean_square * v.sum() / 200, rtol=1e-12)
    assert np.allclose(precision, -mean_square * dg.sum() / 200, rtol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_float32_matches_float64(nm, variant):
    # Rounding X and the vectors to float32 moves each product by about 1e-7 relative, far below
    # the O(1 / sqrt(n)) spread of the overlaps.
    double = run_gamp(nm, 2.0, 500, seed=6, n_test=2000, variant=variant)
    single = run_gamp(nm, 2.0, 500, seed=6, n_test=2000, variant=variant, dtype="float32")

    assert single.dtype == "float32"
    assert double.dtype == "float64"
    assert single.iterations == double.iterations
    assert np.max(np.abs(single.w_hat - double.w_hat)) < 1e-4
    assert abs(single.overlap_error - double.overlap_error) < 1e-5


def test_variants_reach_nearby_fixed_points(nm):
    # Both variants track the same SE, so their estimates differ by O(1 / sqrt(n)) per component
    # at most, and their overlap errors by much less than the error itself.
    per_component = run_gamp(nm, 3.0, 1000, seed=2, n_test=1000)
    scalar = run_gamp(nm, 3.0, 1000, seed=2, n_test=1000, variant="scalar")

    assert per_component.variant == "per_component"
    assert scalar.variant == "scalar"
    assert per_component.converged
    assert scalar.converged
    assert abs(per_component.overlap_error - scalar.overlap_error) < 0.005
    assert not np.array_equal(per_component.w_hat, scalar.w_hat)


def test_instance_too_large_for_memory_rejected():
    # m = n = 10^7 needs 8e14 bytes for X alone, more than any machine this runs on.
    with pytest.raises(InsufficientMemoryError, match=r"needs about 800 TB .*X in float64 takes 800 TB"):
        make_instance(1.0, 10**7, 1.0, seed=0)


def test_run_gamp_rejects_invalid_variant_and_dtype(nm):
    with pytest.raises(ValueError, match="^variant = 'diagonal' is invalid"):
        run_gamp(nm, 2.0, 100, 0, variant="diagonal")
    with pytest.raises(ValueError, match="^dtype = 'float16' is invalid"):
        run_gamp(nm, 2.0, 100, 0, dtype="float16")


def test_gamp_keeps_float32_input(nm):
    instance = make_instance(2.0, 200, nm.rho, seed=0, dtype="float32")
    result = gamp(nm, instance.X, instance.y)

    assert result.dtype == "float32"
    assert result.w_hat.dtype == np.float64


def test_test_error_matches_direct_sampling():
    # Second method: draw the n-dimensional Gaussian inputs themselves and label them both ways.
    rng = np.random.default_rng(8)
    w_star = rng.standard_normal(40)
    w_hat = 0.6 * w_star + 0.5 * rng.standard_normal(40)
    X_test = rng.standard_normal((200_000, 40))
    direct = float(np.mean(np.sign(X_test @ w_star) != np.sign(X_test @ w_hat)))

    error = estimate_test_error(w_hat, w_star, 200_000, np.random.default_rng(9))

    # Two independent estimates of the same probability: the difference has standard error
    # sqrt(2 p (1 - p) / 200000).
    assert abs(error - direct) < 4 * math.sqrt(2 * direct * (1 - direct) / 200_000)


def test_zero_estimate_errs_half_the_time():
    # w_hat = 0 labels every input +1, which the teacher contradicts with probability 1/2.
    w_star = np.array([0.3, -1.2, 2.0])
    error = estimate_test_error(np.zeros(3), w_star, 100_000, np.random.default_rng(0))

    assert abs(error - 0.5) < 4 * math.sqrt(0.25 / 100_000)
