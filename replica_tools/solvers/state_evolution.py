"""Bayes-optimal state evolution of GAMP, equivalently the RS saddle point, vectorized over alpha.

Under the Nishimori identities (m = q, Q = rho) the fixed point solves

    qhat = alpha E_xi[ sum_y Z_out f_out^2 ](q),    q = q(qhat)  (for example rho^2 qhat / (1 + rho qhat)),

with both maps derived by ``replica_tools.symbolic.replica.state_evolution_equations``. The
iteration runs on V = rho - q rather than on q: as alpha grows V falls like 1 / alpha^2, and
1 - q computed from q would keep only the digits that q has beyond its leading ones.
"""

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from replica_tools.numerics.compiled import NumpyModel, compile_numpy
from replica_tools.solvers.input_maps import InputMap
from replica_tools.solvers.output_maps import OutputMap
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.replica import teacher_expectation

logger = logging.getLogger(__name__)

# Ranges over which tests check the fixed point, against mpmath and through the independence of
# eps_Bayes from rho. Outside them double precision may fail, and the solver raises if it does.
TESTED_ALPHA = (1e-6, 1e8)
TESTED_RHO = (1e-6, 1e6)


@dataclass
class FixedPoint:
    """State-evolution fixed points on an alpha grid (arrays of the grid's shape)."""

    alpha: np.ndarray
    q: np.ndarray
    qhat: np.ndarray
    V: np.ndarray  # rho - q, kept separately because it carries the digits near q = rho
    eps_bayes: np.ndarray
    eps_gibbs: np.ndarray
    iterations: int
    rho: float


class StateEvolutionMaps:
    """The two maps of the fixed point, compiled for NumPy at a numeric rho.

    ``qhat_of(alpha, V)`` evaluates alpha E_xi[...] at q = rho - V; ``V_of(qhat)`` is rho - q(qhat),
    simplified symbolically so that no difference of close numbers is taken at run time, or, for a
    prior with point masses, computed by quadrature (``input_map``, see
    ``replica_tools.solvers.input_maps``). ``numeric_objects`` names what comes from quadrature.
    """

    def __init__(self, model, rho, numpy_model=None):
        rho_value = sp.nsimplify(rho)
        self._output_map = OutputMap(model, rho)

        if numpy_model is None:
            numpy_model = NumpyModel(model, rho)
        closed_form_V = None
        if not model.prior.is_mixture:
            q_of_qhat = teacher_expectation(model.prior, model.input.f_w**2)
            # rho is substituted before simplify: a numeric rho left in rho - q(qhat) cancels at run time.
            V_of_qhat = sp.simplify((s.rho - q_of_qhat).subs(s.rho, rho_value))
            if not V_of_qhat.has(sp.Integral):
                closed_form_V = compile_numpy(V_of_qhat, (s.qhat,))
        self.input_map = InputMap(numpy_model, closed_form_V)
        self.numeric_objects = ("q(qhat)", "Psi_w(qhat)") if self.input_map.numeric else ("Psi_w(qhat)",)
        self.rho = float(rho)
        # The uninformative start: q = E[w]^2, so V = Var(w), which is rho for a zero-mean prior.
        self.V_uninformative = self.input_map.V_uninformative

    def qhat_of(self, alpha, V):
        """Return qhat = alpha E_xi[sum_y Z_out f_out^2] at q = rho - V (an integral over y for real labels)."""
        return alpha * self._output_map.expectation(self.rho - V, V)

    @property
    def output_map(self):
        """The ``OutputMap`` of the channel, which also integrates over real labels."""
        return self._output_map

    def V_of(self, qhat):
        """Return V = rho - q(qhat)."""
        return self.input_map.V_of(qhat)


@lru_cache(maxsize=8)
def _maps_for(numpy_model):
    return StateEvolutionMaps(numpy_model.model, numpy_model.rho, numpy_model)


def maps_for(numpy_model):
    """Return the compiled state-evolution maps of a ``NumpyModel`` (cached per compiled model)."""
    return _maps_for(numpy_model)


def generalization_errors(V, rho):
    """Return (eps_Bayes, eps_Gibbs) from V = rho - q.

    eps_Bayes = arccos(sqrt(q / rho)) / pi = arcsin(sqrt(V / rho)) / pi and
    eps_Gibbs = arccos(q / rho) / pi = 2 arcsin(sqrt(V / (2 rho))) / pi; the arcsin forms keep
    full relative precision as V -> 0, where arccos of a number near 1 does not.
    """
    eps_bayes = np.arcsin(np.sqrt(V / rho)) / np.pi
    eps_gibbs = 2 * np.arcsin(np.sqrt(V / (2 * rho))) / np.pi
    return eps_bayes, eps_gibbs


def _validate_alpha(alpha):
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    bad = alpha[~(np.isfinite(alpha) & (alpha > 0))]
    if bad.size:
        raise ValueError(f"alpha = {bad[0]} is invalid: the sample density must be finite and > 0")
    return alpha


def state_evolution_trajectory(numpy_model, alpha, steps, q0=None):
    """Return q_t for t = 0 .. steps of the Bayes-optimal SE recursion started at q_0 = q0.

    The default q0 is the uninformative point E[w]^2, which is 0 for a zero-mean prior.
    """
    maps = maps_for(numpy_model)
    alpha = float(_validate_alpha(alpha)[0])
    if q0 is None:
        q0 = maps.rho - maps.V_uninformative
    if not 0 <= q0 < maps.rho:
        raise ValueError(f"q0 = {q0} is invalid: the starting overlap must be in [0, rho = {maps.rho})")
    V = np.array([maps.rho - q0])
    history = [q0]
    for _ in range(steps):
        V = maps.V_of(maps.qhat_of(alpha, V))
        history.append(float(maps.rho - V[0]))
    return np.array(history)


def solve_fixed_point(numpy_model, alpha, tol=1e-14, max_iter=500, V_start=None):
    """Solve the Bayes-optimal fixed point at every alpha of the grid.

    Iterates V -> V(qhat(V)) from V = ``V_start`` (default: the uninformative point, V = Var(w),
    which is rho for a zero-mean prior), accelerating with Aitken's delta-squared step
    on log V, until the relative change of V is below ``tol`` at every alpha. The map contracts
    (its slope on log V tends to 1/2 at large alpha), so plain iteration converges; the
    acceleration cuts the iteration count.

    NOTE: for a prior of point masses V can fall to 0 (the perfect fixed point), which this
    solver reports as a failure. ``replica_tools.solvers.branches`` handles that case.
    """
    alpha = _validate_alpha(alpha)
    maps = maps_for(numpy_model)
    rho = maps.rho

    def variance(log_V):
        # exp(log(rho)) can round one ulp above rho, which would make q = rho - V negative.
        return np.minimum(np.exp(log_V), rho)

    def step(log_V):
        return np.log(maps.V_of(maps.qhat_of(alpha, variance(log_V))))

    if V_start is None:
        V_start = maps.V_uninformative
    log_V = np.broadcast_to(np.log(np.asarray(V_start, dtype=float)), alpha.shape).copy()
    # Out of range alpha rho^2 gives NaN here; the check after the loop turns it into an error.
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        log_V, iteration = _iterate(step, log_V, np.log(rho), tol, max_iter)

    V = variance(log_V)
    with np.errstate(invalid="ignore", over="ignore"):
        qhat = maps.qhat_of(alpha, V)
    bad = ~(np.isfinite(V) & np.isfinite(qhat) & (V > 0))
    if bad.any():
        raise FloatingPointError(
            f"state evolution failed at alpha = {alpha[bad][0]:g}, rho = {rho:g}: V = {V[bad][0]}, "
            f"qhat = {qhat[bad][0]}; alpha or rho is too extreme for double precision (the tests cover "
            f"alpha in [{TESTED_ALPHA[0]:g}, {TESTED_ALPHA[1]:g}] and rho in [{TESTED_RHO[0]:g}, {TESTED_RHO[1]:g}])"
        )
    eps_bayes, eps_gibbs = generalization_errors(V, rho)
    return FixedPoint(alpha, rho - V, qhat, V, eps_bayes, eps_gibbs, iteration, rho)


def _iterate(step, log_V, log_rho, tol, max_iter):
    """Iterate ``step`` on log V with Aitken's acceleration; return (log V, iterations used)."""
    for iteration in range(1, max_iter + 1):
        first = step(log_V)
        second = step(first)
        # Aitken's step where the differences are well conditioned, plain iteration elsewhere.
        denominator = second - 2 * first + log_V
        accelerated = second - (second - first) ** 2 / denominator
        usable = np.isfinite(accelerated) & (np.abs(denominator) > 1e-300) & (accelerated <= log_rho)
        new_log_V = np.where(usable, accelerated, second)
        change = np.max(np.abs(new_log_V - log_V))
        log_V = new_log_V
        if change < tol:
            return log_V, iteration
    logger.warning("state evolution stopped after %d iterations, last change %.3g", max_iter, change)
    return log_V, max_iter
