"""Branches of state-evolution fixed points and the RS free entropy of each.

A model with a first-order transition has several fixed points at one alpha. The state
evolution finds the stable ones from two starts: the uninformative point (q = E[w]^2, where GAMP
from a random start begins) and a near-perfect overlap (V = rho - q = NEAR_PERFECT_V rho). The
equilibrium is the fixed point of largest free entropy

    Phi(q, qhat) = -q qhat / 2 + Psi_w(qhat) + alpha Psi_out(q).

The perfect fixed point. For a prior made of point masses and a noiseless channel, V = 0
(q = rho, qhat = infinity) is a fixed point at every alpha. There Phi has a finite limit:
with gamma = qhat w* + sqrt(qhat) xi, the component a = w* dominates Z_w, so

    log Z_w = log p(w*) + qhat w*^2 / 2 + sqrt(qhat) xi w* + O(exp(-c qhat)),

hence Psi_w = E[log p(w*)] + rho qhat / 2 + o(1), and (rho - q) qhat -> 0 because V falls
exponentially in qhat. Thus Phi -> -H(P_0) + alpha Psi_out(rho), with H the Shannon entropy of
the prior (log 2 for Rademacher weights) and Psi_out(rho) = sum_y E_z[P_out(y|z) log P_out(y|z)],
z ~ N(0, rho), which is 0 for a noiseless channel. A test checks the limit against Phi at large
finite qhat.
"""

import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp
from scipy.special import xlogy

from replica_tools.numerics.compiled import NUMPY_FUNCTIONS
from replica_tools.numerics.quadrature import hermite_rule, two_scale_expectation, width_scale
from replica_tools.solvers.state_evolution import generalization_errors, maps_for
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.prior import entropy

logger = logging.getLogger(__name__)

# Start of the informed branch, as a fraction of rho.
NEAR_PERFECT_V = 1e-10
# A V below this fraction of rho is taken as the perfect fixed point V = 0. The quadrature of
# V(qhat) keeps its relative precision only down to about 1e-30 rho (see input_maps).
PERFECT_V = 1e-30
# Two starts whose fixed points differ by less than this in log V reached the same fixed point.
SAME_FIXED_POINT = 1e-6


@dataclass
class Branch:
    """Fixed points on an alpha grid reached from one start, with their free entropy.

    ``perfect`` marks the entries at V = 0, where q = rho, qhat = inf and ``phi`` is the limit
    derived in the module docstring.
    """

    start: str
    alpha: np.ndarray
    V: np.ndarray
    qhat: np.ndarray
    phi: np.ndarray
    perfect: np.ndarray
    rho: float
    eps_bayes: np.ndarray = field(init=False)
    eps_gibbs: np.ndarray = field(init=False)

    def __post_init__(self):
        self.eps_bayes, self.eps_gibbs = generalization_errors(self.V, self.rho)

    @property
    def q(self):
        return self.rho - self.V


class FreeEntropy:
    """The RS free entropy of a compiled model, by quadrature from the compiled Z_w and Z_out."""

    def __init__(self, numpy_model):
        self.numpy_model = numpy_model
        self.maps = maps_for(numpy_model)
        self.rho = numpy_model.rho

    def Psi_out(self, V):
        """Return Psi_out = sum_y E_xi[Z_out log Z_out] at q = rho - V, omega = sqrt(q) xi.

        Z_out log Z_out varies on the scale sqrt(V / q) in xi near 0 and, for a noisy channel,
        on the scale one away from it, so the expectation uses ``two_scale_expectation``.

        For real labels the sum over y is an integral, taken term by term of Z_out's Gaussians in
        y (``OutputMap.label_integral``).
        """
        V = np.asarray(V, dtype=float)
        q = self.rho - V
        if self.numpy_model.labels is None:
            output_map = self.maps.output_map
            log_Z_out = self.numpy_model.log_Z_out

            def over_labels(xi):
                return output_map.label_integral(log_Z_out, np.sqrt(q) * xi, V)

            return two_scale_expectation(over_labels, output_map.scale(q, V))

        total = np.zeros_like(V)
        for label in self.numpy_model.labels:
            Z_out = self.numpy_model.Z_out_at[label]
            log_Z_out = self.numpy_model.log_Z_out_at[label]

            def integrand(xi, Z_out=Z_out, log_Z_out=log_Z_out):
                omega = np.sqrt(q) * xi
                values = Z_out(omega, V) * log_Z_out(omega, V)
                # Z_out log Z_out -> 0 where Z_out underflows to 0.
                return np.where(np.isfinite(values), values, 0.0)

            total = total + two_scale_expectation(integrand, width_scale(q, V))
        return total

    @cached_property
    def Psi_out_perfect(self):
        """Return Psi_out(q = rho) = sum_y E_z[P_out(y|z) log P_out(y|z)], z ~ N(0, rho).

        For real labels this is Psi_out at V = PERFECT_V, where Z_out(y, omega, V) has reached
        P_out(y | omega) to within O(sqrt(V)).
        """
        channel = self.numpy_model.model.channel
        if channel.continuous:
            return float(self.Psi_out(np.array(PERFECT_V)))
        t, weights = hermite_rule()
        z = np.sqrt(self.rho) * t
        total = 0.0
        for label in channel.labels:
            p_out = sp.lambdify(s.z, channel.p_out_at(label), modules=[NUMPY_FUNCTIONS, {"Heaviside": _heaviside}, "numpy"])
            values = np.broadcast_to(np.asarray(p_out(z), dtype=float), z.shape)
            total += float(np.sum(weights * xlogy(values, values)))
        return total

    @cached_property
    def perfect_phi_offset(self):
        """Return -H(P_0), the alpha-independent part of Phi at the perfect fixed point, or None.

        None for a prior with a density, whose Phi tends to -infinity as q -> rho.
        """
        prior = self.numpy_model.model.prior
        if prior.density is not None:
            return None
        return -float(entropy(prior))

    def phi(self, alpha, V, qhat):
        """Return Phi(q, qhat) at q = rho - V; entries with V = 0 get the perfect-point limit."""
        alpha, V, qhat = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (alpha, V, qhat)))
        perfect = V == 0
        finite_V = np.where(perfect, self.rho / 2, V)
        finite_qhat = np.where(perfect, 1.0, qhat)
        value = (-(self.rho - finite_V) * finite_qhat / 2 + self.maps.input_map.Psi_w(finite_qhat)
                 + alpha * self.Psi_out(finite_V))
        if perfect.any():
            value = np.where(perfect, self.phi_perfect(alpha), value)
        return value

    def phi_perfect(self, alpha):
        """Return the limit of Phi at the perfect fixed point, -H(P_0) + alpha Psi_out(rho)."""
        if self.perfect_phi_offset is None:
            return np.full(np.shape(alpha), -np.inf)
        return self.perfect_phi_offset + np.asarray(alpha, dtype=float) * self.Psi_out_perfect


def _heaviside(x, value_at_zero=0.5):
    # The step's value at 0 does not matter under a Gaussian integral.
    return np.heaviside(x, 0.5)


def iterate_fixed_point(maps, alpha, V_start, tol=1e-13, max_iter=20_000):
    """Iterate V -> V(qhat(alpha, V)) from ``V_start`` at every alpha; return (V, qhat).

    Iterates on log V with Aitken's delta-squared step where it is well conditioned. An entry
    whose V falls below PERFECT_V rho is set to the perfect fixed point V = 0 (qhat = inf).
    Raises RuntimeError if an entry neither converges nor reaches V = 0 within ``max_iter``
    steps. Next to a spinodal the iterates pass a bottleneck of about pi / sqrt(c |alpha - alpha_alg|)
    steps, so this happens within about 2e-7 of the Rademacher spinodal (an estimate from the
    measured c = 0.14).
    """
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    log_V = np.broadcast_to(np.log(np.asarray(V_start, dtype=float)), alpha.shape).copy()
    floor = np.log(PERFECT_V * maps.rho)
    perfect = np.zeros(alpha.shape, dtype=bool)
    done = np.zeros(alpha.shape, dtype=bool)

    def step(alpha_values, log_V_values):
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return np.log(maps.V_of(maps.qhat_of(alpha_values, np.exp(log_V_values))))

    for _ in range(max_iter):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        alpha_active, current = alpha[active], log_V[active]
        first = step(alpha_active, current)
        second = first.copy()
        alive = first > floor
        second[alive] = step(alpha_active[alive], first[alive])

        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            denominator = second - 2 * first + current
            accelerated = second - (second - first) ** 2 / denominator
            usable = np.isfinite(accelerated) & (np.abs(denominator) > 1e-300) & (accelerated <= np.log(maps.rho))
            # Aitken's step only where the iterates move one way by shrinking amounts, so that it
            # does not jump across an unstable fixed point.
            usable &= (second - first) * (first - current) > 0
            usable &= np.abs(second - first) < np.abs(first - current)
        new = np.where(usable, accelerated, second)

        reached_zero = ~(new > floor)
        converged = np.abs(new - current) < tol
        log_V[active] = np.where(reached_zero, -np.inf, new)
        perfect[active] = reached_zero
        done[active] = reached_zero | converged
    if not done.all():
        raise RuntimeError(f"state evolution did not converge within {max_iter} steps at alpha = "
                           f"{alpha[~done][0]:.10g}, probably next to a spinodal")

    V = np.where(perfect, 0.0, np.exp(log_V))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        qhat = np.where(perfect, np.inf, maps.qhat_of(alpha, np.where(perfect, maps.rho / 2, V)))
    return V, qhat


def follow_branches(numpy_model, alpha):
    """Return the branches reached from the uninformative and the near-perfect start.

    The result maps "uninformative" and "informed" to ``Branch`` objects on the same alpha grid.
    Where both starts reach the same fixed point there is one branch at that alpha.
    """
    free_entropy = FreeEntropy(numpy_model)
    maps = free_entropy.maps
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    branches = {}
    for start, V_start in (("uninformative", maps.V_uninformative), ("informed", NEAR_PERFECT_V * maps.rho)):
        V, qhat = iterate_fixed_point(maps, alpha, V_start)
        phi = free_entropy.phi(alpha, V, qhat)
        branches[start] = Branch(start, alpha, V, qhat, phi, V == 0, maps.rho)
    return branches


def same_fixed_point(first, second):
    """Return, per alpha, whether two branches hold the same fixed point."""
    both_perfect = first.perfect & second.perfect
    with np.errstate(divide="ignore", invalid="ignore"):
        close = np.abs(np.log(first.V) - np.log(second.V)) < SAME_FIXED_POINT
    return both_perfect | (close & ~first.perfect & ~second.perfect)


def equilibrium(branches, informed_qhat=None):
    """Return (V, phi, eps_bayes, which) of the fixed point of largest free entropy per alpha.

    ``which`` is "uninformative" or "informed" per alpha. Where both starts reach the same fixed
    point, the name is that of the branch the point lies on: "informed" if its qhat exceeds
    ``informed_qhat`` (the qhat of the fold where the uninformative branch ends, so beyond
    alpha_alg) or it is the perfect fixed point, and "uninformative" otherwise.
    """
    uninformative, informed = branches["uninformative"], branches["informed"]
    informed_wins = informed.phi > uninformative.phi
    V = np.where(informed_wins, informed.V, uninformative.V)
    phi = np.maximum(informed.phi, uninformative.phi)
    eps = np.where(informed_wins, informed.eps_bayes, uninformative.eps_bayes)
    merged = same_fixed_point(uninformative, informed)
    beyond_fold = uninformative.perfect.copy()
    if informed_qhat is not None:
        beyond_fold |= uninformative.qhat > informed_qhat
    # Where the starts merged, the free entropies differ by rounding only, so they do not decide.
    which = np.where(np.where(merged, beyond_fold, informed_wins), "informed", "uninformative")
    return V, phi, eps, which
