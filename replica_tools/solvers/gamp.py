"""GAMP (generalized approximate message passing) for a generalized linear model.

The iteration is relaxed belief propagation on the factor graph of P(w | y, X), closed by the
Onsager correction. With the inputs scaled as in the model, z = X w / sqrt(n), one step reads

    V_mu     = sum_i X_mu_i^2 v_i / n
    omega_mu = sum_i X_mu_i w_hat_i / sqrt(n) - V_mu g_mu            (g from the previous step)
    g_mu     = f_out(y_mu, omega_mu, V_mu),   dg_mu = d_omega f_out(y_mu, omega_mu, V_mu)
    Sigma_i  = 1 / (- sum_mu X_mu_i^2 dg_mu / n)
    R_i      = w_hat_i + Sigma_i sum_mu X_mu_i g_mu / sqrt(n)
    w_hat_i  = f_w(Sigma_i, R_i),            v_i = variance of P_0(w) N(w; R_i, Sigma_i)

started from the prior: w_hat = 0 (its mean), v = rho (its variance) and g = 0. Every function of
the channel and of the prior comes compiled from its SymPy derivation
(``replica_tools.numerics.compiled.NumpyModel``), so no formula is typed here. For the Gaussian
prior the derived input functions are f_w = R rho / (rho + Sigma) and variance = rho Sigma /
(rho + Sigma).

Two variants compute V and Sigma:

- ``per_component`` is the form above. The products with X**2 are computed block by block of
  rows: each block is squared into a small buffer and multiplied while it is still in cache, so
  no second m-by-n matrix is kept. Each step makes one pass over X for X w_hat and X**2 v, and
  one for X^T g and (X**2)^T dg.
- ``scalar`` replaces every X_mu_i^2 by their mean c = |X|_F^2 / (m n), which is what the sums
  concentrate on for i.i.d. entries: V_mu = c sum_i v_i / n and 1 / Sigma_i = -c sum_mu dg_mu / n.
  A step then needs only X w_hat and X^T g, half the products. It is valid for i.i.d. inputs,
  not for inputs whose rows or columns have different scales.

The products can run in float32 (``dtype="float32"``): X is stored in float32, each vector is
rounded to float32 for the product and the result is returned as float64, so w_hat, v, omega, V,
Sigma and R stay in float64.

In the Bayes-optimal setting and for large n, the overlaps m_t = w_hat . w* / n and
q_t = |w_hat|^2 / n follow the state evolution started from q_0 = 0, with m_t = q_t (Nishimori).
"""

import logging
import math
import os
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np

from replica_tools.solvers.labels import draw_labels
from replica_tools.solvers.teacher import draw_weights

logger = logging.getLogger(__name__)

VARIANTS = ("per_component", "scalar")
DEFAULT_VARIANT = "per_component"
DTYPES = ("float64", "float32")

# The posterior mean obeys E|w_hat|^2 / n <= E|w|^2 / n = rho (Jensen), so an estimate with q far
# above rho has run away. The factor leaves room for the finite-n spread of |w*|^2 / n around rho.
OVERLAP_BLOWUP_FACTOR = 10.0

# Test inputs are drawn in blocks of about this many float64 entries (16 MiB) to bound memory.
TEST_BLOCK_ENTRIES = 2**21

# X is drawn in row blocks of about this many float64 entries (16 MiB), then rounded to its dtype.
DRAW_BLOCK_ENTRIES = 2**21

# The per-component step squares row blocks of about this many entries (1 MiB in float64), small
# enough to stay in a core's cache between the square and its two products.
SQUARE_BLOCK_ENTRIES = 2**17

# Spawn key of the random stream for fresh test samples, so they are independent of the instance
# drawn from the same seed.
TEST_STREAM_KEY = (1,)

# float64 vectors of length m or n that one run keeps at the same time (state, iterates,
# temporaries of the compiled functions), counted generously for the memory estimate.
WORKING_VECTORS = 24


# With a prior of point masses GAMP can reach the teacher exactly: v underflows to 0 and so does
# 1 / Sigma. Damping keeps v positive until w_hat has converged (measured on the Rademacher
# perceptron at n = 2000, alpha = 1.7: undamped runs stopped at iteration 12 with Sigma = inf).
POINT_MASS_DAMPING = 0.3


def default_damping(nm):
    """Return the damping that GAMP needs for the prior of ``nm``: POINT_MASS_DAMPING or 0."""
    return POINT_MASS_DAMPING if nm.model.prior.point_masses is not None else 0.0


class GampDivergenceError(RuntimeError):
    """GAMP produced non-finite values, a non-positive Sigma, or overlaps that blew up."""


class InsufficientMemoryError(MemoryError):
    """An instance would need more memory than the machine has available."""


@dataclass(frozen=True)
class Instance:
    """One teacher-student data set.

    Attributes
    ----------
    X : numpy.ndarray, shape (m, n)
        Inputs, i.i.d. N(0, 1), C-contiguous, float64 or float32 (float64 draws rounded).
    y : numpy.ndarray, shape (m,)
        Labels sign(X w* / sqrt(n)) in {-1, +1}, as float64, computed from the float64 draws.
    w_star : numpy.ndarray, shape (n,)
        Teacher weights, i.i.d. N(0, rho).
    """

    X: np.ndarray
    y: np.ndarray
    w_star: np.ndarray


@dataclass(frozen=True)
class GampState:
    """Iterates carried from one GAMP step to the next.

    Attributes
    ----------
    w_hat, v : numpy.ndarray, shape (n,)
        Posterior means and variances of the weights.
    g : numpy.ndarray, shape (m,)
        f_out of the last step, which the next step's Onsager term needs.
    """

    w_hat: np.ndarray
    v: np.ndarray
    g: np.ndarray


@dataclass
class GampResult:
    """Outcome of one GAMP run.

    Attributes
    ----------
    w_hat, v : numpy.ndarray, shape (n,)
        Posterior means and variances of the weights at the last iteration.
    m_history : numpy.ndarray or None
        m_t = w_hat_t . w* / n for t = 0, 1, ..., iterations, or None when no teacher was given.
    q_history : numpy.ndarray
        q_t = |w_hat_t|^2 / n for t = 0, 1, ..., iterations.
    iterations : int
        Number of GAMP steps performed.
    converged : bool
        Whether the mean squared change of w_hat fell below ``tol``.
    test_error : float or None
        Fraction of fresh samples that sign(X_test w_hat) labels differently from the teacher.
        Only ``run_gamp`` sets it.
    overlap_error : float or None
        arccos(m / sqrt(rho_hat q)) / pi with rho_hat = |w*|^2 / n, the expected test error of
        w_hat on Gaussian inputs, or None when no teacher was given.
    alpha : float
        Sample ratio. ``gamp`` stores m / n, ``run_gamp`` the requested alpha (m is alpha n rounded).
    n : int
        Input dimension.
    seed : int or None
        Seed of the instance and test set when ``run_gamp`` drew them, otherwise None.
    variant : str
        ``per_component`` or ``scalar``.
    dtype : str
        ``float64`` or ``float32``, the dtype of X in the matrix-vector products.
    """

    w_hat: np.ndarray
    v: np.ndarray
    m_history: np.ndarray
    q_history: np.ndarray
    iterations: int
    converged: bool
    test_error: float
    overlap_error: float
    alpha: float
    n: int
    seed: int
    variant: str = DEFAULT_VARIANT
    dtype: str = "float64"


def teacher_labels(z):
    """Return sign(z) as float64 labels in {-1, +1}.

    z = 0 has probability zero for Gaussian data, and mapping it to +1 keeps every label in the set.
    """
    return np.where(z >= 0, 1.0, -1.0)


def resolve_dtype(dtype):
    """Return ``dtype`` (a name, a NumPy type or None for float64) as float64 or float32."""
    if dtype is None:
        return np.dtype(np.float64)
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in DTYPES:
        raise ValueError(f"dtype = {dtype!r} is invalid: expected one of {', '.join(DTYPES)}")
    return resolved


def draw_inputs(m, n, rng, *, dtype=np.float64, block_rows=None, w_star=None):
    """Draw X of shape (m, n) with i.i.d. N(0, 1) entries, in row blocks, and return (X, z).

    Rows are drawn in order from ``rng`` in float64, ``block_rows`` at a time (by default about
    ``DRAW_BLOCK_ENTRIES`` entries), and rounded into X of ``dtype``. NumPy's ``standard_normal``
    consumes the stream entry by entry, so X does not depend on the block size, and a float32 X
    is the float64 one rounded. Memory is X plus one float64 block.

    With a teacher ``w_star``, z = X w* / sqrt(n) is computed from the float64 draws before
    rounding, so the labels do not depend on ``dtype``; otherwise z is None.
    """
    dtype = resolve_dtype(dtype)
    if block_rows is None:
        block_rows = max(1, DRAW_BLOCK_ENTRIES // n)
    if not (isinstance(block_rows, Integral) and block_rows >= 1):
        raise ValueError(f"block_rows = {block_rows!r} is invalid: expected an integer >= 1")

    X = np.empty((m, n), dtype=dtype)
    z = None if w_star is None else np.empty(m)
    sqrt_n = math.sqrt(n)
    for start in range(0, m, block_rows):
        stop = min(m, start + block_rows)
        block = rng.standard_normal((stop - start, n))
        if z is not None:
            z[start:stop] = (block @ w_star) / sqrt_n
        X[start:stop] = block
    return X, z


def instance_memory_bytes(m, n, dtype=np.float64):
    """Estimate the peak memory in bytes of drawing an instance of m samples and running GAMP on it.

    The estimate is X in ``dtype``, plus the largest of the float64 draw block, the square
    buffer of the per-component step and a block of test inputs, plus ``WORKING_VECTORS``
    float64 vectors of length m + n. It leaves out the interpreter and the compiled model.
    """
    itemsize = resolve_dtype(dtype).itemsize
    largest_block = 8 * max(DRAW_BLOCK_ENTRIES, TEST_BLOCK_ENTRIES, n)
    return itemsize * m * n + largest_block + 8 * WORKING_VECTORS * (m + n)


def available_memory_bytes():
    """Return the memory available to a new allocation in bytes, or None where it is unknown.

    On Linux this is MemAvailable of /proc/meminfo (free memory plus reclaimable caches);
    elsewhere the physical memory from ``os.sysconf``.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_instance_memory(m, n, dtype=np.float64, copies=1):
    """Raise ``InsufficientMemoryError`` if ``copies`` instances of m samples would not fit in memory.

    The message gives the size needed, so that the run stops before any allocation.
    """
    needed = copies * instance_memory_bytes(m, n, dtype)
    available = available_memory_bytes()
    if available is None or needed <= available:
        return
    dtype_name = resolve_dtype(dtype).name
    per_copy = "" if copies == 1 else f" for {copies} runs at once"
    hint = " or use dtype float32" if dtype_name == "float64" else ""
    raise InsufficientMemoryError(
        f"GAMP with m = {m}, n = {n} needs about {format_bytes(needed)}{per_copy} (X in {dtype_name} "
        f"takes {format_bytes(resolve_dtype(dtype).itemsize * m * n)}), more than the "
        f"{format_bytes(available)} of memory available: lower n or alpha{hint}")


def format_bytes(count):
    """Format a byte count with a decimal unit, such as 1.6 GB."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count / 1e3:.3g} kB"


def make_instance(alpha, n, rho, seed, *, prior=None, channel=None, dtype=np.float64, block_rows=None):
    """Draw a teacher-student instance with m = round(alpha n) samples.

    The teacher w* is drawn first, from ``prior`` (default N(0, rho)), then X row block by row block (see ``draw_inputs``), from
    ``numpy.random.default_rng(seed)``, so the same arguments give the same instance whatever
    ``block_rows``. The labels are drawn last, from ``channel`` (default the sign of z). Raises ``InsufficientMemoryError`` before drawing if the instance and a GAMP
    run on it would not fit in the available memory.
    """
    _check_alpha(alpha)
    _check_dimension(n)
    if not (isinstance(rho, Real) and math.isfinite(rho) and rho > 0):
        raise ValueError(f"rho = {rho!r} is invalid: the teacher second moment must be finite and > 0")
    m = _sample_count(alpha, n)
    check_instance_memory(m, n, dtype)

    rng = np.random.default_rng(seed)
    w_star = rng.normal(0.0, math.sqrt(rho), size=n) if prior is None else draw_weights(prior, n, rng, rho)
    X, z = draw_inputs(m, n, rng, dtype=dtype, block_rows=block_rows, w_star=w_star)
    y = teacher_labels(z) if channel is None else draw_labels(channel, z, rng)
    return Instance(X=X, y=y, w_star=w_star)


def gamp(nm, X, y, *, w_star=None, damping=0.0, tol=1e-8, max_iter=200, progress=None,
         variant=DEFAULT_VARIANT, dtype=None):
    """Run GAMP on the data (X, y) and return a ``GampResult``.

    Parameters
    ----------
    nm : replica_tools.numerics.compiled.NumpyModel
        The compiled model, which supplies f_out, d_omega f_out, f_w, the variance and rho.
    X : array_like, shape (m, n)
        Inputs. GAMP's update is derived for i.i.d. zero-mean entries of variance 1.
    y : array_like, shape (m,)
        Labels, each one of ``nm.labels``.
    w_star : array_like, shape (n,), optional
        The teacher, used only to record m_t and the overlap error.
    damping : float in [0, 1)
        New w_hat and v are (1 - damping) times the update plus damping times the old values.
    tol : float > 0
        Convergence threshold on the mean squared change of w_hat per undamped step (the damped
        change divided by (1 - damping)^2).
    max_iter : int >= 1
        Maximum number of steps. Reaching it is not an error: the result has converged=False.
    progress : callable, optional
        Called as ``progress(t, m_t, q_t)`` for t = 0 and after every step. m_t is None without
        a teacher.
    variant : {"per_component", "scalar"}
        How V and Sigma are computed (see the module docstring).
    dtype : {None, "float64", "float32"}
        dtype of X in the products. None keeps a float32 or float64 X as it is and converts
        any other to float64. A different dtype converts X, which takes a second copy.

    Raises
    ------
    ValueError
        If an input or a setting is out of range.
    GampDivergenceError
        If the iterates become non-finite, Sigma becomes non-positive or q exceeds
        ``OVERLAP_BLOWUP_FACTOR`` rho. The message names the step and the quantity.
    """
    _check_variant(variant)
    X, y, w_star = _check_data(nm, X, y, w_star, dtype)
    _check_settings(damping, tol, max_iter)
    m_samples, n = X.shape
    logger.debug("GAMP start: m = %d, n = %d, variant %s, dtype %s, damping = %g, tol = %g, max_iter = %d",
                 m_samples, n, variant, X.dtype.name, damping, tol, max_iter)

    products = InputProducts(X, variant)
    # A model without the prior's moments (such as a test stub) has a zero-mean prior of variance rho.
    prior_mean, prior_variance = getattr(nm, "prior_mean", 0.0), getattr(nm, "prior_variance", nm.rho)
    state = GampState(w_hat=np.full(n, prior_mean), v=np.full(n, prior_variance), g=np.zeros(m_samples))
    m_history, q_history = [], []
    _record_overlaps(0, state.w_hat, w_star, nm.rho, m_history, q_history, progress)

    converged = False
    iterations = 0
    for iteration in range(1, max_iter + 1):
        iterations = iteration
        new_state = gamp_step(nm, products, y, state, iteration, damping)
        # Damping shrinks each step by (1 - damping); undo that, so that a heavily damped run is
        # not declared converged because its steps are small.
        change = float(np.mean(np.square(new_state.w_hat - state.w_hat))) / (1.0 - damping) ** 2
        state = new_state
        _record_overlaps(iteration, state.w_hat, w_star, nm.rho, m_history, q_history, progress)
        if change < tol:
            converged = True
            break

    if converged:
        logger.debug("GAMP converged after %d iterations (mean squared change %.3g < tol %g)",
                     iterations, change, tol)
    else:
        logger.warning("GAMP did not converge within max_iter = %d iterations: the mean squared "
                       "change of w_hat is %.3g, above tol = %g. Raise max_iter or damping.",
                       max_iter, change, tol)

    m_array = None if w_star is None else np.array(m_history)
    overlap = None
    if w_star is not None:
        overlap = overlap_error(m_history[-1], q_history[-1], float(w_star @ w_star) / n)
    return GampResult(
        w_hat=state.w_hat, v=state.v, m_history=m_array, q_history=np.array(q_history),
        iterations=iterations, converged=converged, test_error=None, overlap_error=overlap,
        alpha=m_samples / n, n=n, seed=None, variant=variant, dtype=X.dtype.name,
    )


class InputProducts:
    """The matrix-vector products of one GAMP step with X, for one variant.

    ``forward(w_hat, v)`` returns (X w_hat, V) and ``backward(g, dg)`` returns (X^T g, 1 / Sigma),
    as float64 whatever X's dtype. Vectors are rounded to X's dtype for the products. The
    per-component variant keeps one buffer of ``SQUARE_BLOCK_ENTRIES`` entries for the squared
    row blocks.
    """

    def __init__(self, X, variant=DEFAULT_VARIANT):
        _check_variant(variant)
        self.X = X
        self.variant = variant
        m, n = X.shape
        self.block_rows = max(1, min(m, SQUARE_BLOCK_ENTRIES // n))
        self._square = np.empty((self.block_rows, n), dtype=X.dtype)
        # The scalar variant uses the mean of X_mu_i^2, computed once, in float64.
        self.mean_square = None
        if variant == "scalar":
            total = 0.0
            for start, block in self._blocks():
                square = self._square[:block.shape[0]]
                np.square(block, out=square)
                total += float(np.sum(square, dtype=np.float64))
            self.mean_square = total / (m * n)

    def forward(self, w_hat, v):
        """Return (X w_hat, V) with V_mu = sum_i X_mu_i^2 v_i / n, or c sum_i v_i / n (scalar)."""
        X = self.X
        m, n = X.shape
        w_hat = w_hat.astype(X.dtype, copy=False)
        if self.variant == "scalar":
            V = np.full(m, self.mean_square * float(np.sum(v)) / n)
            return (X @ w_hat).astype(np.float64, copy=False), V

        v = v.astype(X.dtype, copy=False)
        projection = np.empty(m)
        V = np.empty(m)
        for start, block in self._blocks():
            stop = start + block.shape[0]
            square = self._square[:block.shape[0]]
            np.square(block, out=square)
            projection[start:stop] = block @ w_hat
            V[start:stop] = square @ v
        return projection, V / n

    def backward(self, g, dg):
        """Return (X^T g, P) with P_i = -sum_mu X_mu_i^2 dg_mu / n = 1 / Sigma_i (c sum_mu for scalar)."""
        X = self.X
        m, n = X.shape
        g = g.astype(X.dtype, copy=False)
        if self.variant == "scalar":
            precision = np.full(n, -self.mean_square * float(np.sum(dg)) / n)
            return (X.T @ g).astype(np.float64, copy=False), precision

        dg = dg.astype(X.dtype, copy=False)
        back_projection = np.zeros(n)
        precision = np.zeros(n)
        for start, block in self._blocks():
            stop = start + block.shape[0]
            square = self._square[:block.shape[0]]
            np.square(block, out=square)
            back_projection += block.T @ g[start:stop]
            precision -= square.T @ dg[start:stop]
        return back_projection, precision / n

    def _blocks(self):
        for start in range(0, self.X.shape[0], self.block_rows):
            yield start, self.X[start:start + self.block_rows]


def gamp_step(nm, products, y, state, iteration, damping=0.0):
    """Perform one GAMP step from ``state`` with the ``InputProducts`` of X and return the new state.

    ``iteration`` only labels error messages. Raises ``GampDivergenceError`` when a quantity
    becomes non-finite or Sigma non-positive.
    """
    n = products.X.shape[1]
    sqrt_n = math.sqrt(n)

    projection, V = products.forward(state.w_hat, state.v)
    # Onsager term: omega_mu must be the mean of z_mu without sample mu's own pull on w_hat, and
    # to leading order in 1/sqrt(n) that pull is V_mu times g_mu of the previous step.
    omega = projection / sqrt_n - V * state.g
    _check_finite(iteration, "omega", omega)
    g = nm.f_out(y, omega, V)
    dg = nm.df_out(y, omega, V)
    _check_finite(iteration, "f_out", g)
    _check_finite(iteration, "d_omega f_out", dg)

    back_projection, precision = products.backward(g, dg)
    Sigma = _cavity_variance(iteration, precision, n)
    R = state.w_hat + Sigma * back_projection / sqrt_n
    _check_finite(iteration, "R", R)
    w_hat = nm.f_w(Sigma, R)
    v = nm.variance_w(Sigma, R)
    if damping > 0:
        w_hat = (1.0 - damping) * w_hat + damping * state.w_hat
        v = (1.0 - damping) * v + damping * state.v
    _check_finite(iteration, "w_hat", w_hat)
    _check_finite(iteration, "v", v)
    return GampState(w_hat=w_hat, v=v, g=g)


def run_gamp(nm, alpha, n, seed, *, damping=0.0, tol=1e-8, max_iter=200, n_test=10_000, progress=None,
             variant=DEFAULT_VARIANT, dtype="float64"):
    """Draw an instance from ``seed``, run GAMP on it and measure the test error.

    The instance comes from ``make_instance`` with the prior and channel of ``nm.model``. The n_test
    fresh test samples come from an independent stream of the same seed, so equal arguments give
    identical results. X is released before the test samples are drawn. The other arguments are
    those of ``gamp``.
    """
    _check_alpha(alpha)
    _check_dimension(n)
    if not (isinstance(n_test, Integral) and n_test >= 1):
        raise ValueError(f"n_test = {n_test!r} is invalid: the number of test samples must be an integer >= 1")
    if not (isinstance(seed, Integral) and seed >= 0):
        raise ValueError(f"seed = {seed!r} is invalid: the seed must be an integer >= 0")
    # Checked here as well as in gamp, so that a bad setting fails before the instance is drawn.
    _check_settings(damping, tol, max_iter)
    _check_variant(variant)
    dtype = resolve_dtype(dtype)

    instance = make_instance(alpha, n, nm.rho, seed, prior=nm.model.prior, channel=nm.model.channel, dtype=dtype)
    w_star = instance.w_star
    result = gamp(nm, instance.X, instance.y, w_star=w_star, damping=damping, tol=tol,
                  max_iter=max_iter, progress=progress, variant=variant, dtype=dtype)
    del instance

    test_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=TEST_STREAM_KEY))
    error = estimate_test_error(result.w_hat, w_star, n_test, test_rng)
    return replace(result, test_error=error, alpha=float(alpha), seed=int(seed))


def estimate_test_error(w_hat, w_star, n_test, rng):
    """Return the fraction of n_test fresh Gaussian inputs on which sign(x . w_hat) != sign(x . w*).

    For x ~ N(0, I_n) the pair (x . w*, x . w_hat) is Gaussian with the Gram matrix of w* and
    w_hat as covariance, so the pairs are drawn directly from that 2-d law, exactly, by its
    Cholesky factor: 2 normals per test input instead of n. The pairs are drawn in blocks of
    about ``TEST_BLOCK_ENTRIES`` entries, so memory stays bounded for any n_test.
    """
    teacher_norm = math.sqrt(float(w_star @ w_star))
    overlap = float(w_hat @ w_star)
    # x . w_hat = (overlap / |w*|) u + residual v, with u = x . w* / |w*| and v independent.
    along = overlap / teacher_norm
    residual = math.sqrt(max(0.0, float(w_hat @ w_hat) - along * along))
    block_rows = max(1, TEST_BLOCK_ENTRIES // 2)
    errors = 0
    drawn = 0
    while drawn < n_test:
        rows = min(block_rows, n_test - drawn)
        normals = rng.standard_normal((rows, 2))
        teacher_field = teacher_norm * normals[:, 0]
        student_field = along * normals[:, 0] + residual * normals[:, 1]
        errors += int(np.count_nonzero(teacher_labels(teacher_field) != teacher_labels(student_field)))
        drawn += rows
    return errors / n_test


def overlap_error(m, q, rho_hat):
    """Return arccos(m / sqrt(rho_hat q)) / pi, the test error of w_hat on Gaussian inputs.

    For x ~ N(0, I) the pair (x . w*, x . w_hat) is Gaussian with correlation m / sqrt(rho_hat q),
    and two such signs differ with probability arccos(correlation) / pi.
    """
    if q == 0:
        # w_hat = 0 gives every input the label +1 (teacher_labels maps 0 to +1), wrong half the time.
        return 0.5
    # Cauchy-Schwarz bounds the correlation by 1 in magnitude, but rounding may exceed it by an ulp.
    correlation = np.clip(m / math.sqrt(rho_hat * q), -1.0, 1.0)
    return float(np.arccos(correlation) / math.pi)


def _cavity_variance(iteration, precision, n):
    """Return Sigma = 1 / precision, raising if the precision is not finite and positive."""
    bad = ~(np.isfinite(precision) & (precision > 0))
    if bad.any():
        raise GampDivergenceError(
            f"GAMP diverged at iteration {iteration}: Sigma is non-positive or non-finite in "
            f"{np.count_nonzero(bad)} of {n} components (smallest 1/Sigma = {np.nanmin(precision):.3g}). "
            "Sigma > 0 needs d_omega f_out < 0, which holds for a log-concave channel.")
    return 1.0 / precision


def _record_overlaps(iteration, w_hat, w_star, rho, m_history, q_history, progress):
    n = w_hat.shape[0]
    q = float(w_hat @ w_hat) / n
    m = None if w_star is None else float(w_hat @ w_star) / n
    if q > OVERLAP_BLOWUP_FACTOR * rho:
        raise GampDivergenceError(
            f"GAMP diverged at iteration {iteration}: q = |w_hat|^2 / n = {q:.3g} exceeds "
            f"{OVERLAP_BLOWUP_FACTOR:g} rho = {OVERLAP_BLOWUP_FACTOR * rho:.3g}. "
            "Try damping, or check that X has i.i.d. zero-mean unit-variance entries.")
    q_history.append(q)
    m_history.append(m)
    if progress is not None:
        progress(iteration, m, q)


def _check_finite(iteration, name, values):
    if not np.all(np.isfinite(values)):
        count = values.size - np.count_nonzero(np.isfinite(values))
        raise GampDivergenceError(
            f"GAMP diverged at iteration {iteration}: {name} has {count} non-finite entries of {values.size}")


def _check_data(nm, X, y, w_star, dtype=None):
    X = np.asarray(X)
    if dtype is None and X.dtype.name not in DTYPES:
        dtype = np.float64
    X = np.ascontiguousarray(X, dtype=None if dtype is None else resolve_dtype(dtype))
    if X.ndim != 2:
        raise ValueError(f"X has shape {X.shape}: expected a 2-D array of shape (m, n)")
    m_samples, n = X.shape
    _check_dimension(n)
    if m_samples < 1:
        raise ValueError(f"X has m = {m_samples} rows: expected at least 1 sample")
    # Row blocks keep the temporary boolean array small next to X.
    block_rows = max(1, DRAW_BLOCK_ENTRIES // n)
    for start in range(0, m_samples, block_rows):
        if not np.all(np.isfinite(X[start:start + block_rows])):
            raise ValueError(f"X contains NaN or infinite entries (in {X.dtype.name}): expected finite inputs")

    y = np.ascontiguousarray(y, dtype=np.float64)
    if y.shape != (m_samples,):
        raise ValueError(f"y has shape {y.shape}: expected ({m_samples},) to match the rows of X")
    # The compiled f_out dispatches on the label, so a value outside the label set has no f_out.
    # Real labels (nm.labels is None) need only be finite.
    valid = np.isfinite(y) if nm.labels is None else np.isin(y, nm.labels)
    if not valid.all():
        first = y[~valid][0]
        expected = "finite real labels" if nm.labels is None else f"each label in {nm.labels}"
        raise ValueError(f"y contains {np.count_nonzero(~valid)} invalid labels (first: {first!r}): "
                         f"expected {expected}")

    if w_star is not None:
        w_star = np.ascontiguousarray(w_star, dtype=np.float64)
        if w_star.shape != (n,):
            raise ValueError(f"w_star has shape {w_star.shape}: expected ({n},) to match the columns of X")
    return X, y, w_star


def _check_variant(variant):
    if variant not in VARIANTS:
        raise ValueError(f"variant = {variant!r} is invalid: expected one of {', '.join(VARIANTS)}")


def _check_settings(damping, tol, max_iter):
    if not (isinstance(damping, Real) and 0 <= damping < 1):
        raise ValueError(f"damping = {damping!r} is invalid: expected a number in [0, 1)")
    if not (isinstance(tol, Real) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol = {tol!r} is invalid: expected a finite number > 0")
    if not (isinstance(max_iter, Integral) and max_iter >= 1):
        raise ValueError(f"max_iter = {max_iter!r} is invalid: expected an integer >= 1")


def _check_alpha(alpha):
    if not (isinstance(alpha, Real) and math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha = {alpha!r} is invalid: the sample ratio m / n must be finite and > 0")


def _check_dimension(n):
    if not (isinstance(n, Integral) and n >= 2):
        raise ValueError(f"n = {n!r} is invalid: the input dimension must be an integer >= 2")


def _sample_count(alpha, n):
    m = round(alpha * n)
    if m < 1:
        raise ValueError(f"alpha = {alpha!r} with n = {n} gives m = round(alpha n) = {m} samples, "
                         "but at least 1 is needed. Raise alpha or n.")
    return m
