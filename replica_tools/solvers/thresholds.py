"""Phase transitions of the Bayes-optimal fixed points: the algorithmic and the IT threshold.

Every fixed point of the state evolution lies on one curve. With qhat as its parameter the curve
is explicit: qhat = alpha I(V(qhat)), where I(V) is the output map at alpha = 1, so

    alpha(qhat) = qhat / I(V(qhat)).

Following the fixed points by continuation in qhat passes the folds that a continuation in alpha
cannot. A fixed point is stable where alpha(qhat) increases, because there the state-evolution
map crosses the diagonal from above. So the uninformative branch ends at the first local maximum
of alpha(qhat). That is the spinodal alpha_alg, beyond which GAMP from a random start reaches the
informed branch. A later local minimum is where the informed branch appears. Without one, it
exists at every alpha (for a binary prior and the sign channel it is the perfect fixed point
V = 0).

The information-theoretic threshold alpha_IT is where the free entropies of the two branches
cross. Each threshold is located by two independent routes:

- alpha_alg: the maximum of alpha(qhat) along the curve, and a bisection in alpha on whether the
  state evolution from the uninformative start stays on that branch or escapes from it.
- alpha_IT: a root-finder (Brent) on Phi_uninformative - Phi_informed with Phi from its formula
  (Psi_w and Psi_out by quadrature), and the crossing of the informed branch's free entropy with
  Phi_uninformative(alpha) = int_0^alpha Psi_out(q(a)) da. That integral is exact because
  dPhi/dalpha = Psi_out at a stationary point and Phi = 0 at alpha = 0; it needs neither Psi_w
  nor qhat.
"""

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from replica_tools.solvers.branches import (
    NEAR_PERFECT_V,
    SAME_FIXED_POINT,
    FreeEntropy,
    iterate_fixed_point,
)

logger = logging.getLogger(__name__)

# The fixed-point curve is scanned on this log-spaced qhat grid for folds, cut where V(qhat)
# falls below SCAN_V_FLOOR rho: below it the quadrature of V loses relative precision (a binary
# prior reaches it at qhat ~ 110). For the Gauss-Bernoulli prior at rho = 0.3, V(qhat) agreed with
# mpmath to 1e-13 up to qhat = 3e3 and to 4e-8 at QHAT_MAX, where input_maps.MAX_NODES limits the grid.
QHAT_MIN, QHAT_MAX, QHAT_POINTS = 1e-4, 1e4, 800
SCAN_V_FLOOR = 1e-25
# qhat values per call of the input map during the scan, which bounds its memory.
SCAN_CHUNK = 60
# Absolute width in alpha of the final bracket of the bisection.
BISECTION_TOLERANCE = 1e-11
# State-evolution steps from the uninformative start before the barrier search decides.
SE_STEPS = 200
# Gauss-Legendre nodes of the free-entropy integral over alpha.
INTEGRATION_NODES = 64
# alpha_IT is searched above ALPHA_IT_LOW, on a grid of ALPHA_IT_GRID log-spaced points that
# brackets the crossing before Brent's method refines it.
ALPHA_IT_LOW = 1e-3
ALPHA_IT_GRID = 48
# Largest relative distance between the two routes to a threshold that ``--check`` accepts. On
# the catalog models checked the routes agree to 2e-8 or better (the largest, 1.5e-8, is alpha_IT
# of the noisy-sign channel at Delta = 0.1, most others 1e-10 or better), while a root of the
# wrong pair of branches was off by order 1.
CHECK_TOLERANCE = 1e-6


@dataclass
class Fold:
    """A fold of the fixed-point curve: ``kind`` is "max" (a branch ends) or "min" (one begins)."""

    kind: str
    alpha: float
    qhat: float


@dataclass
class Thresholds:
    """The thresholds of a model. A None threshold does not exist, and ``reasons`` gives the reason.

    ``*_check`` are the same thresholds by the second route, and ``branch_count`` is the largest
    number of stable fixed points at one alpha.
    """

    alpha_alg: float = None
    alpha_it: float = None
    alpha_alg_check: float = None
    alpha_it_check: float = None
    informed_from: float = None
    branch_count: int = 1
    perfect_branch: bool = False
    folds: list = field(default_factory=list)
    reasons: dict = field(default_factory=dict)


def curve_alpha(maps, qhat):
    """Return alpha(qhat) = qhat / I(V(qhat)) on the fixed-point curve."""
    qhat = np.asarray(qhat, dtype=float)
    return qhat / maps.qhat_of(1.0, maps.V_of(qhat))


def find_folds(free_entropy):
    """Return the folds of the fixed-point curve, located by continuation in qhat."""
    maps = free_entropy.maps
    log_qhat = np.linspace(math.log(QHAT_MIN), math.log(QHAT_MAX), QHAT_POINTS)
    V = np.concatenate([maps.V_of(np.exp(chunk)) for chunk in np.array_split(log_qhat, len(log_qhat) // SCAN_CHUNK)])
    kept = V > SCAN_V_FLOOR * maps.rho
    log_qhat, V = log_qhat[kept], V[kept]
    alpha = np.exp(log_qhat) / maps.qhat_of(1.0, V)
    folds = []
    for index in range(1, len(log_qhat) - 1):
        left, middle, right = alpha[index - 1:index + 2]
        if middle > left and middle >= right:
            kind, sign = "max", -1.0
        elif middle < left and middle <= right:
            kind, sign = "min", 1.0
        else:
            continue
        bounds = (log_qhat[index - 1], log_qhat[index + 1])
        result = minimize_scalar(lambda x, sign=sign: sign * float(curve_alpha(maps, math.exp(x))),
                                 bounds=bounds, method="bounded", options={"xatol": 1e-10})
        folds.append(Fold(kind, sign * float(result.fun), math.exp(result.x)))
    return folds, alpha, np.exp(log_qhat[[0, -1]])


def escapes_uninformative_start(maps, alpha, V_cut, steps=SE_STEPS):
    """Return whether the state evolution at ``alpha`` from the uninformative start escapes below V_cut.

    The map G(V) = V(qhat(alpha, V)) increases with V, so the iterates from V_0 = Var(w) decrease
    monotonically and stop at the largest fixed point below V_0, if there is one above V_cut.
    After ``steps`` iterations (or once below V_cut) the remaining question is whether G(V) >= V
    somewhere in [V_cut, V_t]: such a V is a barrier the iterates never pass, while without one
    they pass V_cut in finitely many steps, however slowly near the spinodal (the bottleneck
    takes about pi / sqrt(c (alpha - alpha_alg)) steps). G(V) - V has a single maximum there, so
    a bounded Brent search of that maximum decides, down to differences of about 1e-15 in G.
    """
    V = maps.V_uninformative
    for _ in range(steps):
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            V_next = float(maps.V_of(maps.qhat_of(alpha, np.array([V])))[0])
        if not V_next > V_cut:
            return True
        if V_next >= V:
            return False
        V = V_next

    def gap(V):
        return -(float(maps.V_of(maps.qhat_of(alpha, np.array([V])))[0]) - V)

    result = minimize_scalar(gap, bounds=(V_cut, V), method="bounded", options={"xatol": 1e-14})
    return -result.fun < 0 and gap(V_cut) > 0 and gap(V) > 0


def spinodal_by_bisection(maps, low, high, tol=BISECTION_TOLERANCE):
    """Return the largest alpha at which SE from the uninformative start stays on its branch.

    Bisection in alpha on ``escapes_uninformative_start``; ``low`` must be stuck and ``high``
    must escape. V_cut is half the stuck fixed point at ``low``, below every uninformative fixed
    point of the bracket and above the unstable ones next to the spinodal.
    """
    V_stuck, _ = iterate_fixed_point(maps, np.array([low]), maps.V_uninformative)
    V_cut = float(V_stuck[0]) / 2
    if not V_cut > 0:
        raise ValueError(f"alpha = {low} is not on the uninformative branch")
    if escapes_uninformative_start(maps, low, V_cut) or not escapes_uninformative_start(maps, high, V_cut):
        raise ValueError(f"[{low}, {high}] does not bracket the spinodal")
    while high - low > tol:
        middle = (low + high) / 2
        if escapes_uninformative_start(maps, middle, V_cut):
            high = middle
        else:
            low = middle
    return (low + high) / 2


def _uninformative_phi(free_entropy, alpha):
    maps = free_entropy.maps
    V, qhat = iterate_fixed_point(maps, np.array([alpha]), maps.V_uninformative, tol=1e-15)
    if V[0] == 0:
        raise ValueError(f"alpha = {alpha} is beyond the uninformative branch")
    return float(free_entropy.phi(alpha, V, qhat)[0])


def _informed_phi(free_entropy, alpha):
    maps = free_entropy.maps
    V, qhat = iterate_fixed_point(maps, np.array([alpha]), NEAR_PERFECT_V * maps.rho, tol=1e-15)
    return float(free_entropy.phi(alpha, V, qhat)[0])


def _crossing_bracket(free_entropy, low, high, points=ALPHA_IT_GRID):
    """Return a bracket [a, b] of alpha_IT within [low, high], or None if the branches do not cross.

    The informed branch need not reach down to ``low``. For a noisy channel the near-perfect start
    reaches the perfect fixed point only above some small alpha (between 1e-3 and 1e-2 for the
    sign-flip channel at eta = 0.1), and below it both starts reach the uninformative fixed point,
    where the difference is exactly 0.
    So the bracket is taken on a log-spaced grid, between two points at which the starts reach
    different fixed points and the difference falls from positive to negative or zero.
    """
    maps = free_entropy.maps
    alpha = np.geomspace(low, high, points)
    V_uninformative, qhat_uninformative = iterate_fixed_point(maps, alpha, maps.V_uninformative, tol=1e-15)
    V_informed, qhat_informed = iterate_fixed_point(maps, alpha, NEAR_PERFECT_V * maps.rho, tol=1e-15)
    with np.errstate(divide="ignore", invalid="ignore"):
        distinct = ~(np.abs(np.log(V_uninformative) - np.log(V_informed)) < SAME_FIXED_POINT)
    distinct &= V_uninformative > 0
    difference = (free_entropy.phi(alpha, V_uninformative, qhat_uninformative)
                  - free_entropy.phi(alpha, V_informed, qhat_informed))
    for index in range(points - 1):
        if (distinct[index] and distinct[index + 1]
                and difference[index] > 0 and not difference[index + 1] > 0):
            return alpha[index], alpha[index + 1]
    return None


def it_threshold_by_root(free_entropy, low, high):
    """Return the alpha in [low, high] where Phi_uninformative = Phi_informed, by Brent's method."""
    def difference(alpha):
        return _uninformative_phi(free_entropy, alpha) - _informed_phi(free_entropy, alpha)

    return brentq(difference, low, high, xtol=1e-14, rtol=4 * np.finfo(float).eps)


def uninformative_phi_by_integration(free_entropy, alpha, nodes=INTEGRATION_NODES):
    """Return Phi_uninformative(alpha) = int_0^alpha Psi_out(q(a)) da, by Gauss-Legendre."""
    maps = free_entropy.maps
    x, weights = np.polynomial.legendre.leggauss(nodes)
    a = alpha * (x + 1) / 2
    V, _ = iterate_fixed_point(maps, a, maps.V_uninformative, tol=1e-15)
    if np.any(V == 0):
        raise ValueError(f"the uninformative branch does not reach alpha = {alpha}")
    return alpha / 2 * float(np.sum(weights * free_entropy.Psi_out(V)))


def it_threshold_by_integration(free_entropy, guess, max_steps=30):
    """Return alpha_IT by Newton's method on int_0^alpha Psi_out - Phi_perfect(alpha).

    The derivative of the difference is Psi_out(q_uninformative(alpha)) - Psi_out(rho). Needs the
    perfect branch, whose free entropy is known in closed form.
    """
    maps = free_entropy.maps
    alpha = guess
    for _ in range(max_steps):
        difference = uninformative_phi_by_integration(free_entropy, alpha) - float(free_entropy.phi_perfect(alpha))
        V, _ = iterate_fixed_point(maps, np.array([alpha]), maps.V_uninformative)
        slope = float(free_entropy.Psi_out(V)[0]) - free_entropy.Psi_out_perfect
        step = difference / slope
        alpha -= step
        if abs(step) < 1e-13 * alpha:
            return alpha
    raise RuntimeError(f"Newton's method for alpha_IT did not converge from alpha = {guess}")


def locate_thresholds(numpy_model, check=False):
    """Locate alpha_alg and alpha_IT of ``numpy_model``; with ``check``, by the second routes too."""
    free_entropy = FreeEntropy(numpy_model)
    maps = free_entropy.maps
    folds, curve, scanned = find_folds(free_entropy)
    result = Thresholds(folds=folds)

    ends = [fold for fold in folds if fold.kind == "max"]
    if not ends:
        reason = (f"the fixed-point curve has no fold for qhat in [{scanned[0]:.3g}, {scanned[1]:.3g}], that is "
                  f"for alpha in [{curve[0]:.3g}, {curve[-1]:.3g}]: one stable fixed point at each of these alphas")
        result.reasons = {"alpha_alg": reason, "alpha_it": reason}
        return result

    end = ends[0]
    result.alpha_alg = end.alpha
    result.branch_count = 2
    later_minima = [fold for fold in folds if fold.kind == "min" and fold.qhat > end.qhat]
    # A perfect branch: alpha(qhat) falls towards 0 at the end of the scan.
    result.perfect_branch = not later_minima and curve[-1] < 1e-3 * end.alpha
    result.informed_from = later_minima[0].alpha if later_minima else 0.0
    if check:
        result.alpha_alg_check = spinodal_by_bisection(maps, end.alpha * (1 - 1e-2), end.alpha * (1 + 1e-2))

    low = max(result.informed_from * (1 + 1e-6), ALPHA_IT_LOW)
    high = end.alpha * (1 - 1e-4)
    bracket = _crossing_bracket(free_entropy, low, high) if low < high else None
    if bracket is None:
        result.reasons["alpha_it"] = ("the free entropies of the two branches do not cross between "
                                      f"alpha = {low:.6g} and alpha_alg = {end.alpha:.10g}")
        return result
    low, high = bracket
    result.alpha_it = it_threshold_by_root(free_entropy, low, high)
    if check and result.perfect_branch:
        result.alpha_it_check = it_threshold_by_integration(free_entropy, result.alpha_it * (1 + 1e-3))
    return result
