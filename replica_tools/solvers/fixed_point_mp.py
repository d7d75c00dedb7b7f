"""The Bayes-optimal fixed point in arbitrary precision, from alpha = 0.01 to 1e8 and beyond.

This is the high-precision reference for the NumPy state evolution and for the large-alpha
expansion. It differs from the NumPy solver in each numerical choice, so that agreement checks
something: tanh-sinh quadrature (mpmath's ``quad``) instead of Gauss-Hermite, a bracketing root
finder on log delta instead of fixed-point iteration, and mpmath numbers throughout.

The unknown is delta = rho - q, never q: at alpha = 1e8, delta / rho ~ 1e-16, and rho - q
computed from q would have lost those 16 digits. The Gaussian integral over xi runs in the
rescaled variable t = xi sqrt(q / delta) of ``symbolic.asymptotics.rescaled_qhat_integrand``,
in which the label functions vary on a scale of order one however small delta is.
"""

import logging
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy as sp

from replica_tools.numerics.compiled import compile_mpmath
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.asymptotics import delta, fold_labels, rescaled_qhat_integrand
from replica_tools.symbolic.replica import generalization_errors, state_evolution_equations

logger = logging.getLogger(__name__)

MIN_DPS = 15
MAX_DPS = 1000
# Split points of the t integral in units of its width sqrt(q / rho). The integrand is
# exp(-t^2 (1 + delta / (2 q))) / Phi(t), which decays like exp(-t^2 rho / (2 q)) for t -> -oo,
# so its width shrinks with q at small alpha and stays about 1 at large alpha.
SPLIT_POINTS = (-3, 0, 3)
# Extra decimal digits for the quadrature and the root, above the requested dps.
GUARD_DIGITS = 10
MAX_BRACKET_STEPS = 200
MAX_SECANT_STEPS = 30
# Precision of the bracketing solve whose root starts the secant method.
STARTING_DPS = 20


@dataclass(frozen=True)
class MpFixedPoint:
    """The fixed point at one alpha, as mpmath numbers accurate to about ``dps`` digits.

    ``delta`` = rho - q carries the digits that ``q`` loses as q -> rho. ``residual`` is
    |log delta - log(rho - q(qhat))| at the solution, a check of the equations.
    """

    alpha: mpmath.mpf
    rho: mpmath.mpf
    q: mpmath.mpf
    qhat: mpmath.mpf
    delta: mpmath.mpf
    eps_bayes: mpmath.mpf
    eps_gibbs: mpmath.mpf
    dps: int
    residual: mpmath.mpf


class CompiledFixedPoint:
    """The maps of the fixed point compiled for mpmath at one rho.

    ``qhat_of(alpha, delta)`` is alpha times the integral over t of the rescaled integrand at
    q = rho - delta; ``delta_of(qhat)`` is rho - q(qhat), simplified by SymPy so that no
    difference of close numbers is taken at run time.
    """

    def __init__(self, model, rho):
        equations = state_evolution_equations(model)
        rho_exact = _exact(rho)
        self.rho_exact = rho_exact

        integrand = fold_labels(rescaled_qhat_integrand(equations))
        # The factor free of t is evaluated once per integral instead of at every node.
        prefactor, integrand = integrand.as_independent(s.t, as_Mul=True)
        self._prefactor = compile_mpmath(prefactor, (s.q, delta))
        self._integrand = compile_mpmath(integrand, (s.t, s.q, delta))

        delta_of_qhat = sp.simplify(s.rho - equations.q_of_qhat).subs(s.rho, rho_exact)
        if delta_of_qhat.has(sp.Integral):
            raise NotImplementedError(
                f"prior {model.prior.name}: SymPy found no closed form of q(qhat); "
                "the mpmath fixed point needs one")
        self._delta_of_qhat = compile_mpmath(delta_of_qhat, (s.qhat,))

        eps_bayes, eps_gibbs = generalization_errors(rho_exact)
        self._eps_bayes = compile_mpmath(eps_bayes, (s.q,))
        self._eps_gibbs = compile_mpmath(eps_gibbs, (s.q,))

    def rho(self):
        """Return rho at the current precision."""
        return mpmath.mpf(self.rho_exact.p) / self.rho_exact.q

    def qhat_of(self, alpha, delta_value):
        """Return qhat at q = rho - delta, with mpmath's error estimate of the integral."""
        q = self.rho() - delta_value
        width = mpmath.sqrt(q / self.rho())
        points = [-mpmath.inf] + [width * point for point in SPLIT_POINTS] + [mpmath.inf]
        integral, error = mpmath.quad(lambda t: self._integrand(t, q, delta_value), points, error=True)
        factor = alpha * self._prefactor(q, delta_value)
        return factor * integral, abs(factor) * error

    def delta_of(self, qhat):
        """Return delta = rho - q(qhat)."""
        return self._delta_of_qhat(qhat)

    def errors(self, delta_value):
        """Return (eps_Bayes, eps_Gibbs) at q = rho - delta, without losing digits to rho - q.

        The error formulas take q, whose digits beyond those of rho are the digits of delta, so
        they are evaluated with as many extra digits as delta is smaller than rho.
        """
        lost = max(0, int(-mpmath.log10(delta_value / self.rho()))) + 5
        with mpmath.extradps(lost):
            q = self.rho() - delta_value
            bayes, gibbs = self._eps_bayes(q), self._eps_gibbs(q)
        return +bayes, +gibbs


def _exact(rho):
    """Return rho as an exact SymPy rational (a float is taken at its shortest repr)."""
    try:
        value = sp.Rational(str(rho)) if isinstance(rho, float) else sp.Rational(rho)
    except (TypeError, ValueError):
        raise ValueError(f"rho = {rho!r} is invalid: expected a finite number > 0") from None
    if not value.is_positive:
        raise ValueError(f"rho = {rho!r} is invalid: expected a finite number > 0")
    return value


@lru_cache(maxsize=8)
def compiled_fixed_point(model, rho):
    """Derive and compile the fixed-point maps of ``model`` at ``rho`` (cached)."""
    return CompiledFixedPoint(model, rho)


def _resolve_rho(model, rho):
    if model.rho.free_symbols:
        return 1 if rho is None else rho
    if rho is not None and sp.nsimplify(rho) != model.rho:
        raise ValueError(f"rho = {rho!r} is invalid: the model fixes rho = {model.rho}")
    return model.rho


def solve_fixed_point_mp(model, alpha, dps=30, rho=None):
    """Solve the Bayes-optimal fixed point of ``model`` at ``alpha`` to about ``dps`` digits.

    ``rho`` is the teacher's second moment when the model's rho is a symbol (default 1); a
    model with a numeric rho uses its own. ``alpha`` may be any positive number mpmath accepts
    (a string keeps all its digits). Returns an ``MpFixedPoint``; raises ``ValueError`` for an
    invalid argument and ``ArithmeticError`` if the root finder fails.
    """
    if isinstance(dps, bool) or not isinstance(dps, int) or not MIN_DPS <= dps <= MAX_DPS:
        raise ValueError(f"dps = {dps!r} is invalid: expected an integer in [{MIN_DPS}, {MAX_DPS}]")
    rho = _resolve_rho(model, rho)
    maps = compiled_fixed_point(model, _exact(rho))

    alpha = _positive(alpha, "alpha")

    def mismatch(log_delta):
        """log(rho - q(qhat(delta))) - log delta: positive below the root, negative above it."""
        qhat, _ = maps.qhat_of(alpha, mpmath.exp(log_delta))
        return mpmath.log(maps.delta_of(qhat)) - log_delta

    # A bracketing solve at low precision is cheap and safe; the secant method then converges
    # from its root in a few steps at full precision.
    with mpmath.workdps(STARTING_DPS):
        low, high = _bracket(mismatch, _initial_log_delta(alpha, maps.rho()), mpmath.log(maps.rho()))
        start = mpmath.findroot(mismatch, (low, high), solver="anderson")

    with mpmath.workdps(dps + GUARD_DIGITS):
        rho_value = maps.rho()
        log_delta = _secant(mismatch, mpmath.mpf(start), mpmath.mpf(10) ** (-(dps + GUARD_DIGITS // 2)))
        if not low <= log_delta <= high:
            raise ArithmeticError(f"the root at alpha = {alpha} left the bracket [{low}, {high}] of the "
                                  "low-precision solve")

        delta_value = mpmath.exp(log_delta)
        qhat, quadrature_error = maps.qhat_of(alpha, delta_value)
        residual = abs(mpmath.log(maps.delta_of(qhat)) - log_delta)
        if residual > mpmath.mpf(10) ** (-dps):
            raise ArithmeticError(f"the fixed point at alpha = {alpha} has residual {mpmath.nstr(residual, 3)}, "
                                  f"above 1e-{dps}")
        if quadrature_error > abs(qhat) * mpmath.mpf(10) ** (-dps):
            logger.warning("quadrature error estimate %s at alpha = %s exceeds 1e-%d relative",
                           mpmath.nstr(quadrature_error, 3), mpmath.nstr(alpha, 8), dps)
        eps_bayes, eps_gibbs = maps.errors(delta_value)
        values = dict(alpha=alpha, rho=rho_value, q=rho_value - delta_value, qhat=qhat, delta=delta_value,
                      eps_bayes=eps_bayes, eps_gibbs=eps_gibbs, residual=residual)

    # Round to the caller's precision only now, after every difference was taken.
    with mpmath.workdps(dps):
        return MpFixedPoint(dps=dps, **{name: +value for name, value in values.items()})


def _secant(function, start, tolerance):
    """Return the root of ``function`` near ``start`` by the secant method, to ``tolerance`` in x."""
    previous, current = start, start * (1 + mpmath.mpf(10) ** (-STARTING_DPS + 5)) + mpmath.mpf(10) ** (-STARTING_DPS + 5)
    previous_value, current_value = function(previous), function(current)
    for _ in range(MAX_SECANT_STEPS):
        if current_value == previous_value:
            return current
        following = current - current_value * (current - previous) / (current_value - previous_value)
        if abs(following - current) < tolerance:
            return following
        previous, previous_value = current, current_value
        current, current_value = following, function(following)
    raise ArithmeticError(f"the secant method did not converge in {MAX_SECANT_STEPS} steps from {start}")


def _positive(value, name):
    try:
        number = mpmath.mpf(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r} is invalid: expected a finite number > 0") from None
    if not (mpmath.isfinite(number) and number > 0):
        raise ValueError(f"{name} = {value!r} is invalid: expected a finite number > 0")
    return number


def _initial_log_delta(alpha, rho):
    # delta falls from rho at alpha = 0 to about rho / (0.52 alpha^2) as alpha -> oo. This guess
    # was within 30 % of the root at alpha = 0.01, 1, 2, 10 and 1e8, so the bracket search
    # takes one or two steps.
    return mpmath.log(rho / (1 + alpha + alpha**2 / 2))


def _bracket(function, start, upper_limit):
    """Return (low, high) around the sign change of the decreasing ``function``.

    ``upper_limit`` is log rho: delta must stay below rho, where q = 0 and the rescaled
    integrand is undefined.
    """
    ceiling = upper_limit - mpmath.mpf(10) ** (-(mpmath.mp.dps // 2))
    point = min(start, ceiling)
    value = function(point)
    step = mpmath.mpf(1)
    for _ in range(MAX_BRACKET_STEPS):
        following = min(point + step, ceiling) if value > 0 else point - step
        if following == point:
            raise ArithmeticError("no sign change of the fixed-point mismatch below delta = rho")
        following_value = function(following)
        if (value > 0) != (following_value > 0):
            return (point, following) if point < following else (following, point)
        point, value = following, following_value
        step *= 2
    raise ArithmeticError(f"no sign change of the fixed-point mismatch within {MAX_BRACKET_STEPS} steps")
