"""Large-alpha constants of the perceptron to many digits, certified enclosures, and their check.

The expansion of ``symbolic.asymptotics`` writes every constant through the moments
m_j = int t^(2j) w(t) dt of one weight. For the perceptron w(t) = c exp(-t^2) / Phi(t) with
c = sqrt(2) / (2 pi^(3/2)), so w = sqrt(2 / pi) phi(t)^2 / Phi(t) and k = m_0. This module

- computes the moments with mpmath by the trapezoidal rule of ``numerics.precision``, twice at
  different precision, and keeps the digits on which both runs agree;
- encloses k, C_Bayes and C_Gibbs in Arb balls (``numerics.certified``), with the tails beyond
  the integration interval bounded analytically;
- compares the expansion with the full fixed point of ``solvers.fixed_point_mp`` at large alpha.

Tail bounds, for a weight of the form c exp(-t^2) / Phi(t):

- t >= R > 0: Phi(t) >= 1/2, so int_R^oo t^(2j) w dt <= 2c int_R^oo t^(2j) e^(-t^2) dt
  = c Gamma(j + 1/2, R^2);
- t = -s <= -L < 0: Gordon's inequality Phi(-s) >= s phi(s) / (1 + s^2) gives
  w(-s) <= c sqrt(2 pi) e^(-s^2 / 2) (s + 1 / s), whose moment integral over s >= L is
  c sqrt(2 pi) (2^j Gamma(j + 1, L^2 / 2) + 2^(j - 1) Gamma(j, L^2 / 2)).
"""

import logging
import math
from dataclasses import dataclass
from functools import lru_cache

import flint
import mpmath
import sympy as sp
from flint import acb, arb

from replica_tools.numerics.certified import BallIntegrand, certified_integral, compile_acb
from replica_tools.numerics.compiled import compile_mpmath
from replica_tools.numerics.precision import (
    digits_that_agree,
    find_complex_zero,
    trapezoid_moments,
    trapezoid_rule,
)
from replica_tools.solvers.fixed_point_mp import solve_fixed_point_mp
from replica_tools.symbolic import perceptron
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.asymptotics import k as k_symbol
from replica_tools.symbolic.asymptotics import large_alpha_expansion
from replica_tools.symbolic.identities import ndtr

logger = logging.getLogger(__name__)

DEFAULT_DIGITS = 30
DEFAULT_CORRECTIONS = 2
# Scale a of the substitution t = a sinh(u). With a = 3 the nearest singularity of the weight
# (the zero of Phi at t = 1.916 + 2.816i) and the far ones (along arg t -> pi/4) sit at about
# the same distance from the real u axis, and the nodes thin out beyond |t| ~ 3, where the
# weight is a plain Gaussian tail. At 1000 digits this takes about 3900 nodes where the rule
# in t needs 16400 (measured).
TRAPEZOID_SCALE = 3
# Fraction of the distance to the nearest singularity used as the strip half-width.
STRIP_FRACTION = 0.9
# Zeros of Phi computed to find the strip. Beyond these, the zeros approach the ray
# arg t = pi/4 from above, so the strip is also capped at pi/4 (where exp(-t^2) stops decaying).
PHI_ZEROS = 8
# Extra digits of the two runs above the requested count. The runs differ in precision and in
# the trapezoid step, so their agreement checks both the rounding and the discretization.
FIRST_RUN_GUARD_DIGITS = 5
SECOND_RUN_GUARD_DIGITS = 12
# Split points of the certified integral besides its ends: the scaled form takes over below
# about t = -10, and near t = 0 the plain form's balls are tight.
CERTIFIED_BREAKPOINTS = (-4, 0)


@lru_cache(maxsize=1)
def reference_model():
    """Return the perceptron with a symbolic rho, the same object on every call."""
    return perceptron()


@lru_cache(maxsize=4)
def perceptron_expansion(corrections=DEFAULT_CORRECTIONS):
    """Derive the large-alpha expansion of the reference perceptron (cached per order)."""
    return large_alpha_expansion(reference_model(), corrections)


def weight_constant(weight):
    """Return c in w(t) = c exp(-t^2) / Phi(t), or raise ``NotImplementedError`` for another form.

    The tail bounds of this module hold for this form only.
    """
    c = sp.simplify(weight * ndtr(s.t) * sp.exp(s.t**2))
    if c.free_symbols:
        raise NotImplementedError(f"the weight {weight} is not of the form c exp(-t^2) / Phi(t); "
                                  "the tail bounds do not apply")
    return c


def tail_bounds(c, lower, upper, j):
    """Return upper bounds on int t^(2j) w dt over t <= lower < 0 and over t >= upper > 0.

    ``c`` is the constant of ``weight_constant``; the bounds are those of the module docstring,
    computed at the context precision of mpmath.
    """
    c = _evaluate(c, (), ())
    left_end, right_end = -mpmath.mpf(lower), mpmath.mpf(upper)
    half_square = left_end**2 / 2
    left = 2**j * mpmath.gammainc(j + 1, half_square) + mpmath.mpf(2) ** (j - 1) * mpmath.gammainc(j, half_square)
    left *= c * mpmath.sqrt(2 * mpmath.pi)
    right = c * mpmath.gammainc(j + mpmath.mpf(1) / 2, right_end**2)
    return left, right


def integration_interval(c, bits, top_moment):
    """Return integers (lower, upper) beyond which every tail bound up to m_top is below 2^-(bits + 8)."""
    threshold = mpmath.mpf(2) ** (-(bits + 8))
    with mpmath.workprec(64):
        upper = max(1, math.floor(math.sqrt(bits * math.log(2))))
        while max(tail_bounds(c, -1, upper, j)[1] for j in range(top_moment + 1)) > threshold:
            upper += 1
        lower = -max(1, math.floor(math.sqrt(2 * bits * math.log(2))))
        while max(tail_bounds(c, lower, 1, j)[0] for j in range(top_moment + 1)) > threshold:
            lower -= 1
    return lower, upper


@lru_cache(maxsize=1)
def phi_zeros(count=PHI_ZEROS):
    """Return the zeros of Phi(t) = erfc(-t / sqrt 2) / 2 in the lower half plane, nearest first.

    They come from the zeros z_n of erfc in the upper half plane, t_n = -sqrt(2) z_n; the zeros
    in the upper half plane of t are their conjugates. The first two start from the asymptotic
    guess z_n ~ sqrt(2 pi (n - 1/8)) e^(3 pi i / 4), later ones from the linear extrapolation
    of the two before. The function is erfcx, which stays of order one where erfc overflows.
    """
    zeros = []
    for n in range(1, count + 1):
        if n <= 2:
            guess = mpmath.sqrt(2 * mpmath.pi * (n - mpmath.mpf(1) / 8)) * mpmath.expjpi(mpmath.mpf(3) / 4)
        else:
            guess = 2 * zeros[-1] - zeros[-2]
        zeros.append(find_complex_zero(lambda x: mpmath.exp(x * x) * mpmath.erfc(x), guess))
    return tuple(-mpmath.sqrt(2) * z for z in zeros)


def trapezoid_strip(scale=TRAPEZOID_SCALE):
    """Return the strip half-width in u for t = scale sinh(u) (see ``PHI_ZEROS``)."""
    distances = [abs(mpmath.im(mpmath.asinh(zero / scale))) for zero in phi_zeros()]
    return STRIP_FRACTION * float(min(min(distances), mpmath.pi / 4))


def _moments(expansion, bits):
    """Return the moments m_0 .. m_corrections to about 2^-bits, with the rule used."""
    c = weight_constant(expansion.weight)
    top = expansion.corrections
    lower, upper = integration_interval(c, bits, top)
    strip = trapezoid_strip()
    # log M for the error estimate: exp(-t^2) grows by at most exp(scale^2 sin^2(strip)) off the
    # real axis near t = 0.
    growth = TRAPEZOID_SCALE**2 * math.sin(strip) ** 2
    rule = trapezoid_rule(bits, scale=TRAPEZOID_SCALE, strip=strip, lower=lower, upper=upper, growth=growth)
    weight = compile_mpmath(expansion.weight, (s.t,))
    values = trapezoid_moments(weight, [2 * j for j in range(top + 1)], bits, rule)
    return values, rule


@dataclass(frozen=True)
class KnownDigits:
    """A constant and the digits of it that two independent runs agree on.

    ``value`` has all the digits of the more precise run; ``text`` shows ``digits``
    significant digits, each of which both runs produced.
    """

    value: mpmath.mpf
    digits: int
    text: str


@dataclass(frozen=True)
class Correction:
    """A term of alpha eps = C (1 + coefficient alpha^(-power) + ...)."""

    power: int
    coefficient: KnownDigits
    expression: sp.Expr


@dataclass(frozen=True)
class LargeAlphaConstants:
    """k, C_Bayes, C_Gibbs, the moments and the correction coefficients, to ``digits`` digits."""

    digits: int
    k: KnownDigits
    C_bayes: KnownDigits
    C_gibbs: KnownDigits
    moments: tuple
    bayes_corrections: tuple
    gibbs_corrections: tuple
    expansion: object
    nodes: int

    def predicted_alpha_eps(self, alpha, error="bayes", terms=None):
        """Return C (1 + sum of the first ``terms`` corrections) at ``alpha`` (all by default)."""
        constant, corrections = ((self.C_bayes, self.bayes_corrections) if error == "bayes"
                                 else (self.C_gibbs, self.gibbs_corrections))
        kept = corrections if terms is None else corrections[:terms]
        alpha = mpmath.mpf(alpha)
        return constant.value * (1 + sum(c.coefficient.value * alpha ** (-c.power) for c in kept))


def _evaluate(expression, symbols, values):
    return compile_mpmath(expression, symbols)(*values)


def large_alpha_constants(digits=DEFAULT_DIGITS, corrections=DEFAULT_CORRECTIONS):
    """Compute the large-alpha constants of the perceptron to ``digits`` significant digits.

    The moments are computed twice, at about digits + 5 and digits + 12 digits with different
    trapezoid steps, and every constant keeps the digits on which the two runs agree (at most
    ``digits``). Raises ``ValueError`` for digits < 1 or corrections < 0.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits = {digits!r} is invalid: expected an integer >= 1")
    expansion = perceptron_expansion(corrections)
    symbols = expansion.moment_symbols

    runs = []
    for guard in (FIRST_RUN_GUARD_DIGITS, SECOND_RUN_GUARD_DIGITS):
        bits = math.ceil((digits + guard) * math.log2(10))
        with mpmath.workprec(bits + 16):
            moments, rule = _moments(expansion, bits)
            values = {
                "moments": moments,
                "C_bayes": _evaluate(expansion.bayes.constant, symbols, moments),
                "C_gibbs": _evaluate(expansion.gibbs.constant, symbols, moments),
                "bayes": [_evaluate(c, symbols, moments) for _, c in expansion.bayes.corrections],
                "gibbs": [_evaluate(c, symbols, moments) for _, c in expansion.gibbs.corrections],
            }
        runs.append((values, rule))
    (first, _), (second, rule) = runs

    def known(a, b):
        text, count = digits_that_agree(a, b, digits)
        return KnownDigits(b, count, text)

    moments = tuple(known(a, b) for a, b in zip(first["moments"], second["moments"]))

    def corrections_of(name, terms):
        return tuple(Correction(power, known(a, b), expression)
                     for (power, expression), a, b in zip(terms, first[name], second[name]))

    return LargeAlphaConstants(
        digits=digits,
        k=moments[0],
        C_bayes=known(first["C_bayes"], second["C_bayes"]),
        C_gibbs=known(first["C_gibbs"], second["C_gibbs"]),
        moments=moments,
        bayes_corrections=corrections_of("bayes", expansion.bayes.corrections),
        gibbs_corrections=corrections_of("gibbs", expansion.gibbs.corrections),
        expansion=expansion,
        nodes=rule.nodes,
    )


def bayes_constant(digits=DEFAULT_DIGITS):
    """Return C_Bayes = 1 / (k pi), the constant of eps_Bayes ~ C / alpha, as an mpmath number."""
    return large_alpha_constants(digits, corrections=0).C_bayes.value


# ---------------------------------------------------------------------------------------------
# Certified enclosure


@dataclass(frozen=True)
class CertifiedConstants:
    """Arb balls that contain k, C_Bayes and C_Gibbs, with the settings that produced them."""

    digits: int
    k: arb
    C_bayes: arb
    C_gibbs: arb
    interval: tuple
    tail_bound: arb
    evaluations: int


def certified_constants(digits=DEFAULT_DIGITS):
    """Enclose k, C_Bayes and C_Gibbs in balls of radius below 10^-digits.

    The integral over [lower, upper] is Arb's rigorous Gauss-Legendre integration of the derived
    weight, and the two tails are added to the radius through the bounds of the module
    docstring, evaluated in Arb. Raises ``ArithmeticError`` if a radius misses the target.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits = {digits!r} is invalid: expected an integer >= 1")
    expansion = perceptron_expansion(0)
    c = weight_constant(expansion.weight)
    # k ~ 0.72 and C = 1 / (k pi) ~ 0.44, so a radius of 10^-digits / 8 on k keeps C's below 10^-digits.
    bits = math.ceil(digits * math.log2(10)) + 8
    lower, upper = integration_interval(c, bits, 0)

    integrand = BallIntegrand(expansion.weight, expansion.scaled_weight, s.t)
    breakpoints = [lower, *CERTIFIED_BREAKPOINTS, upper]
    with flint.ctx.workprec(bits + 32):
        middle = certified_integral(integrand, breakpoints, bits + 2)
        tails = _certified_tail_bound(c, lower, upper)
        k_ball = middle + arb(0, tails.upper())
        constants = {}
        for name, expression in (("C_bayes", expansion.bayes.constant), ("C_gibbs", expansion.gibbs.constant)):
            constants[name] = compile_acb(expression, k_symbol)(acb(k_ball)).real

    target = arb(10) ** (-digits)
    for name, ball in (("k", k_ball), ("C_bayes", constants["C_bayes"]), ("C_gibbs", constants["C_gibbs"])):
        if not ball.rad() < target:
            raise ArithmeticError(f"the enclosure of {name} has radius {ball.rad().str(3)}, not below 1e-{digits}")
    return CertifiedConstants(digits, k_ball, constants["C_bayes"], constants["C_gibbs"], (lower, upper), tails,
                              integrand.evaluations)


def _certified_tail_bound(c, lower, upper):
    """Return an Arb ball above the sum of the two tail bounds of m_0 (module docstring)."""
    c = _arb_of(c)
    left_end, right_end = arb(-lower), arb(upper)
    half_square = left_end**2 / 2
    # Gamma(1, x) = e^-x and Gamma(0, x) = E_1(x); Gamma(1/2, x) = sqrt(pi) erfc(sqrt(x)).
    left = c * (2 * arb.pi()).sqrt() * ((-half_square).exp() + half_square.gamma_upper(0) / 2)
    right = c * arb.pi().sqrt() * right_end.erfc()
    return left + right


def _arb_of(expression):
    """Evaluate a SymPy constant as an Arb ball."""
    return compile_acb(expression, s.t)(acb(0)).real


# ---------------------------------------------------------------------------------------------
# Check against the full fixed point


@dataclass(frozen=True)
class TableRow:
    """alpha eps_Bayes from the full fixed point next to the expansion's prediction."""

    alpha: mpmath.mpf
    alpha_eps: mpmath.mpf
    predicted: mpmath.mpf
    residual: mpmath.mpf


@dataclass(frozen=True)
class ExpansionCheck:
    """Rows alpha = 10^2 ... 10^8 and the fitted decay exponent of the residual."""

    rows: tuple
    decay_exponent: float
    dps: int


DEFAULT_TABLE_ALPHAS = tuple(10**e for e in range(2, 9))
# Working digits of the table's fixed points. The residual after two corrections falls like
# alpha^-6, to about 1e-48 at alpha = 1e8, so it needs about 60 digits to be resolved.
TABLE_DPS = 70


def check_expansion(constants, alphas=DEFAULT_TABLE_ALPHAS, dps=TABLE_DPS):
    """Compare alpha eps_Bayes of the full fixed point with the expansion, and fit the residual's decay.

    ``constants`` must carry at least ``dps`` digits. The exponent p of |residual| ~ alpha^-p
    is the least-squares slope of log |residual| against log alpha.
    """
    if constants.digits < dps - 10:
        raise ValueError(f"the constants have {constants.digits} digits; the table at dps = {dps} "
                         f"needs at least {dps - 10}")
    rows = []
    with mpmath.workdps(dps):
        for alpha in alphas:
            point = solve_fixed_point_mp(reference_model(), alpha, dps=dps)
            alpha_eps = point.alpha * point.eps_bayes
            predicted = constants.predicted_alpha_eps(point.alpha)
            rows.append(TableRow(point.alpha, alpha_eps, predicted, alpha_eps - predicted))
        exponent = _decay_exponent(rows)
    return ExpansionCheck(tuple(rows), exponent, dps)


def _decay_exponent(rows):
    points = [(math.log(float(row.alpha)), float(mpmath.log(abs(row.residual)))) for row in rows if row.residual]
    if len(points) < 2:
        return math.nan
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in points)
             / sum((x - mean_x) ** 2 for x, _ in points))
    return -slope


# ---------------------------------------------------------------------------------------------
# Run-time estimates

# Seconds of ``large_alpha_constants`` at 1000 digits and of ``certified_constants`` at 500
# digits, and the exponents of their growth with the digit count. They are fitted to runs of
# benchmarks/bench_asymptotics.py on the reference machine (2 cores, mpmath 1.3 with the gmpy2
# backend, python-flint 0.9). They are estimates, and another machine scales them by a constant.
CONSTANTS_SECONDS_AT_1000 = 18.6
CONSTANTS_GROWTH = 3.15
CERTIFIED_SECONDS_AT_500 = 15.5
CERTIFIED_GROWTH = 2.47


def estimated_seconds(digits, certified=False):
    """Estimate the seconds that ``large_alpha_constants`` (and ``certified_constants``) take."""
    seconds = CONSTANTS_SECONDS_AT_1000 * (digits / 1000) ** CONSTANTS_GROWTH
    if certified:
        seconds += CERTIFIED_SECONDS_AT_500 * (digits / 500) ** CERTIFIED_GROWTH
    return seconds
