"""Error-function expressions in the forms that keep their digits, and the functions they use.

SymPy writes Gaussian integrals with ``erf`` and ``erfc`` and canonicalizes ``erfc(-x)`` into
``2 - erfc(x)``, which cancels catastrophically as x -> -oo. The derivations therefore move to the
normal distribution function ``ndtr`` (Phi, printed as H(-x)), which SymPy leaves alone. Every
rewrite here is an identity, so it changes no value:

- ``erfc(x) = 2 ndtr(-sqrt(2) x)`` and ``erf(x) = 2 ndtr(sqrt(2) x) - 1``;
- ``c - k ndtr(x) = (c - k) + k ndtr(-x)`` for 0 < k <= c, so no complement is taken in
  floating point;
- ``exp(a) / ndtr(x)^k = exp(a + k x^2 / 2) 2^k / erfcx(-x / sqrt 2)^k`` when the squares in the
  exponent cancel or what is left of it is bounded above, because ndtr underflows (x < -38)
  where the ratio is still representable;
- ``log(ndtr(x)) = log_ndtr(x)``, finite on the whole line.

The names match ``scipy.special``, which supplies the double-precision implementations.
"""

import sympy as sp


class ndtr(sp.Function):
    """Standard normal distribution function Phi(x) = erfc(-x / sqrt(2)) / 2."""

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)

    def _eval_is_positive(self):
        # Phi(x) > 0 for every real x, which lets SymPy see that a sum of Phi terms is positive.
        return self.args[0].is_extended_real

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.erfc(-x / sp.sqrt(2)) / 2

    def _latex(self, printer, exp=None):
        # The replica literature writes H(x) = 1 - Phi(x), so Phi(x) = H(-x).
        body = r"H\left(%s\right)" % printer._print(-self.args[0])
        return body if exp is None else r"%s^{%s}" % (body, exp)


class erfcx(sp.Function):
    """Scaled complementary error function, erfcx(x) = exp(x^2) erfc(x)."""

    def fdiff(self, argindex=1):
        x = self.args[0]
        return 2 * x * erfcx(x) - 2 / sp.sqrt(sp.pi)

    def _eval_is_positive(self):
        return self.args[0].is_extended_real

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.exp(x**2) * sp.erfc(x)

    def _latex(self, printer, exp=None):
        body = r"\operatorname{erfcx}\left(%s\right)" % printer._print(self.args[0])
        return body if exp is None else r"%s^{%s}" % (body, exp)


class log_ndtr(sp.Function):
    """Logarithm of the standard normal distribution function, log Phi(x)."""

    def fdiff(self, argindex=1):
        x = self.args[0]
        # d/dx log Phi(x) = phi(x) / Phi(x) = sqrt(2/pi) / erfcx(-x / sqrt(2))
        return sp.sqrt(2 / sp.pi) / erfcx(-x / sp.sqrt(2))

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.log(sp.erfc(-x / sp.sqrt(2)) / 2)

    def _latex(self, printer, exp=None):
        body = r"\log H\left(%s\right)" % printer._print(-self.args[0])
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)


def to_ndtr(expr):
    """Rewrite erf and erfc through ndtr."""
    expr = expr.replace(sp.erfc, lambda x: 2 * ndtr(-sp.sqrt(2) * x))
    return expr.replace(sp.erf, lambda x: 2 * ndtr(sp.sqrt(2) * x) - 1)


def _complement_in_sum(expr):
    """Rewrite ``c + k ndtr(x)`` with k < 0 <= c + k as ``(c + k) - k ndtr(-x)``.

    Both terms of the result are non-negative, so no digits cancel when ndtr(x) is close to 1.
    The case c = -k is the plain complement 1 - Phi(x) = Phi(-x).
    """
    constant, rest = expr.as_independent(*expr.free_symbols, as_Add=True)
    if constant == 0:
        return expr
    for term in sp.Add.make_args(rest):
        coefficient, function = term.as_independent(ndtr, as_Mul=True)
        if not isinstance(function, ndtr):
            continue
        remainder = sp.simplify(constant + coefficient)
        if remainder == 0 or (coefficient.is_negative and remainder.is_nonnegative):
            return expr - constant - term + remainder - coefficient * ndtr(-function.args[0])
    return expr


def complement_ndtr(expr):
    """Apply ``1 - ndtr(x) = ndtr(-x)`` to every sum in ``expr``."""
    return expr.replace(lambda e: e.is_Add, _complement_in_sum)


def _squares_cancel(exponent):
    """Tell whether an exponent grows at most linearly in each of its symbols."""
    exponent = sp.simplify(exponent)
    if exponent == 0:
        return True
    numerator, denominator = sp.fraction(sp.together(exponent))
    return all(
        sp.degree(numerator, symbol) - sp.degree(denominator, symbol) <= 1
        for symbol in exponent.free_symbols
    )


def _bounded_above(exponent):
    """Tell whether an exponent is a polynomial, in each symbol, of degree 0 or a downward parabola.

    exp of such an exponent cannot overflow, so the erfcx form is safe even where the squares do
    not cancel: exp(-t^2) / Phi(t) becomes exp(-t^2 / 2) times a slowly varying erfcx factor.
    """
    exponent = sp.expand(exponent)
    for symbol in exponent.free_symbols:
        try:
            polynomial = sp.Poly(exponent, symbol)
        except sp.PolynomialError:
            return False
        if polynomial.degree() == 2 and polynomial.coeff_monomial(symbol**2).is_negative:
            continue
        if polynomial.degree() > 0:
            return False
    return True


def _scale_ndtr_in_product(expr):
    """Rewrite ``exp(a) ndtr(x)^(-k)`` through erfcx when the squares in the exponent cancel."""
    exponentials = [f for f in expr.args if isinstance(f, sp.exp)]
    powers = [f for f in expr.args if f.is_Pow and isinstance(f.base, ndtr) and f.exp.is_negative]
    if not exponentials or not powers:
        return expr

    exponent = sp.Add(*(f.args[0] for f in exponentials))
    for power in powers:
        exponent += -power.exp * power.base.args[0] ** 2 / 2
    if not (_squares_cancel(exponent) or _bounded_above(exponent)):
        return expr

    result = sp.Mul(*(f for f in expr.args if f not in exponentials and f not in powers))
    for power in powers:
        x = power.base.args[0]
        result *= (erfcx(-x / sp.sqrt(2)) / 2) ** power.exp
    return result * sp.exp(sp.simplify(exponent))


def scale_ndtr(expr):
    """Replace Gaussian-over-ndtr ratios by erfcx forms throughout ``expr``.

    ``expr`` is first expanded into a sum of products, so that each ratio is a single Mul.
    """
    # deep=False keeps denominators such as (4 V + 1)^(3/2) whole, so the ratios stay products.
    expanded = sp.expand(sp.powsimp(expr, combine="exp"), deep=False, power_base=False, log=False)
    return expanded.replace(lambda e: e.is_Mul, _scale_ndtr_in_product)


def log_of_ndtr(expr):
    """Replace ``log(ndtr(x))`` by ``log_ndtr(x)`` throughout ``expr``."""
    expr = sp.expand_log(expr, force=True)
    return expr.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], ndtr),
                        lambda e: log_ndtr(e.args[0].args[0]))


def stable_form(expr):
    """Apply every rewrite of this module, in the order that exposes the next one."""
    expr = complement_ndtr(to_ndtr(expr))
    expr = log_of_ndtr(expr)
    return scale_ndtr(expr)
