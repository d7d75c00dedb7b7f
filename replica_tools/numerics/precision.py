"""Integrals over the real line to hundreds or thousands of digits, with mpmath.

The integrands here are analytic in a strip around the real axis and decay like a Gaussian. The
trapezoidal rule then converges exponentially in the number of nodes, and after the
substitution t = scale * sinh(u) it needs far fewer nodes in the tails, where the integrand is
small but still needed to full absolute accuracy. For the step h in u and an integrand analytic
for |Im u| < strip, the error of the infinite trapezoidal sum is about

    2 M / (exp(2 pi strip / h) - 1),

with M the integral of |f| along the edges of the strip. Each node is evaluated at only the
precision its term needs for the requested absolute accuracy: a term of size 2^-e needs e fewer
bits. The tails, where special functions are slowest, then cost little.

Whether the result has the digits requested is checked by computing twice, with different
precision and step, and keeping the digits on which both agree (``digits_that_agree``).
"""

import logging
import math
from dataclasses import dataclass

import mpmath

logger = logging.getLogger(__name__)

# Bits added to each node's precision on top of what its size calls for. They cover rounding
# in the node position t = scale sinh(u), which |f'(t) / f(t)| |t| amplifies (at most about
# 2^12 for the Gaussian integrands here, whose tails end near |t| = 70 at 1000 digits), and the
# summation of up to about 10^5 terms.
NODE_GUARD_BITS = 32
# Precision of the first pass that estimates the size of each term. mpmath has an unbounded
# exponent range, so a 53-bit evaluation gives the magnitude of terms far below 1e-308.
MAGNITUDE_BITS = 53
# A term below 2^-(bits + log2(nodes) + NEGLIGIBLE_BITS) is dropped, so all dropped terms
# together stay below 2^-(bits + NEGLIGIBLE_BITS).
NEGLIGIBLE_BITS = 8


@dataclass(frozen=True)
class TrapezoidRule:
    """Nodes u_i = i h, i from ``first`` to ``last``, of the trapezoidal rule in u, t = scale sinh(u)."""

    scale: mpmath.mpf
    step: mpmath.mpf
    first: int
    last: int

    @property
    def nodes(self):
        """Number of nodes."""
        return self.last - self.first + 1


def trapezoid_rule(bits, *, scale, strip, lower, upper, growth=0.0):
    """Choose the step and node range for an absolute error of about 2^-bits.

    ``strip`` is the half-width in Im u of the strip where the integrand (in u) is analytic.
    ``growth`` estimates log M, the size of the integrand on the strip edges relative to the
    real line. [lower, upper] is the interval in t outside which the tails are negligible.
    """
    if not 0 < strip < math.pi / 2:
        raise ValueError(f"strip = {strip} is invalid: expected a half-width in (0, pi/2)")
    if not lower < 0 < upper:
        raise ValueError(f"the interval [{lower}, {upper}] is invalid: it must contain 0")
    log_error = bits * math.log(2) + growth + math.log(4)
    step = mpmath.mpf(2 * math.pi * strip / log_error)
    first = math.floor(math.asinh(lower / scale) / float(step))
    last = math.ceil(math.asinh(upper / scale) / float(step))
    return TrapezoidRule(mpmath.mpf(scale), step, first, last)


def trapezoid_moments(weight, powers, bits, rule):
    """Return [int t^p weight(t) dt for p in powers] by the trapezoidal rule ``rule``.

    ``weight`` is an mpmath function of t that computes at the context precision, and the
    result is accurate to about 2^-bits in absolute terms (relative for results of order one)
    when ``rule`` was chosen for ``bits``. One evaluation of ``weight`` per node serves every
    power. Terms too small to matter are skipped after the magnitude pass.
    """
    powers = tuple(powers)
    if not powers or min(powers) < 0:
        raise ValueError(f"powers = {powers} is invalid: expected non-negative integers")
    top = max(powers)
    sums = [mpmath.mpf(0) for _ in powers]
    skipped = 0
    negligible_bits = bits + NEGLIGIBLE_BITS + math.ceil(math.log2(rule.nodes))
    with mpmath.workprec(bits + NODE_GUARD_BITS):
        scale, step = rule.scale, rule.step
        for i in range(rule.first, rule.last + 1):
            u = i * step
            with mpmath.workprec(MAGNITUDE_BITS):
                size = _term_size(weight, scale, u, top)
            size_bits = int(mpmath.floor(mpmath.log(size, 2))) if size else -math.inf
            if size_bits < -negligible_bits:
                skipped += 1
                continue
            with mpmath.workprec(max(MAGNITUDE_BITS, bits + NODE_GUARD_BITS + size_bits)):
                t = scale * mpmath.sinh(u)
                term = weight(t) * scale * mpmath.cosh(u)
            # The sums stay at full precision: a term rounded to fewer bits is still accurate
            # to 2^-bits in absolute terms, but a running total rounded that way would not be.
            powers_of_t = [term]
            for _ in range(top):
                powers_of_t.append(powers_of_t[-1] * t)
            for index, power in enumerate(powers):
                sums[index] += powers_of_t[power]
        results = [total * step for total in sums]
    logger.debug("trapezoid: %d nodes, %d skipped as negligible, %d bits", rule.nodes, skipped, bits)
    return results


def _term_size(weight, scale, u, top_power):
    t = scale * mpmath.sinh(u)
    size = abs(weight(t) * scale * mpmath.cosh(u))
    return size * max(mpmath.mpf(1), abs(t)) ** top_power


def digits_that_agree(first, second, max_digits):
    """Return (text, digits): the value rounded to the most digits on which both agree.

    ``text`` is ``mpmath.nstr`` of ``second`` to ``digits`` significant digits, the largest
    count up to ``max_digits`` for which both values round to the same text. ``digits`` is 0
    and ``text`` empty when they disagree already in the first digit.
    """
    with mpmath.workdps(max_digits + 20):
        first, second = mpmath.mpf(first), mpmath.mpf(second)
        difference = abs(first - second)
        if difference == 0:
            estimate = max_digits
        else:
            scale = max(abs(first), abs(second))
            estimate = int(mpmath.floor(-mpmath.log10(difference / scale)))
        digits = max(0, min(max_digits, estimate + 1))
        while digits > 0 and _text(first, digits) != _text(second, digits):
            digits -= 1
        return (_text(second, digits) if digits else ""), digits


def _text(value, digits):
    return mpmath.nstr(value, digits, min_fixed=-math.inf, max_fixed=math.inf, strip_zeros=False)


def find_complex_zero(function, guess, dps=30):
    """Return a zero of the analytic ``function`` near ``guess`` by mpmath's secant method."""
    with mpmath.workdps(dps):
        return mpmath.findroot(function, mpmath.mpc(guess))
