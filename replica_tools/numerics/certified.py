"""Rigorous enclosures with Arb (python-flint): SymPy expressions on complex balls, and integrals.

``compile_acb`` turns a SymPy expression into a function on ``flint.acb`` balls by walking the
expression tree, so the certified integrand is the derived expression itself, not a retyped
copy. ``acb.integral`` then bounds the integration error rigorously: it needs the integrand on
complex balls around the path, and returns a ball that contains the integral.

Ball arithmetic overestimates when two factors that vary fast cancel each other. In the left
tail of the perceptron's weight, exp(-t^2) and Phi(t) each vary by e^(|t| r) across a ball of
radius r while their ratio varies slowly, so the enclosures blow up unless the balls are tiny.
``BallIntegrand`` therefore evaluates a scaled form there, with erfcx computed through Tricomi's
function, erfcx(x) = U(1/2, 1/2, x^2) / sqrt(pi) for Re x > 0, whose enclosures on wide balls
stay finite where those of exp(x^2) erfc(x) contain 0. Arb's U multiplies the input radius by
about e^(x^2), so it is accurate in relative terms only on exact inputs. The weight's factor
exp(-t^2 / 2) cancels that growth, so the integrand stays accurate in absolute terms, which
is what the integral needs. Both forms are the same analytic function, so choosing one per
ball stays rigorous.
"""

import math

import flint
import sympy as sp
from flint import acb, arb

from replica_tools.symbolic.identities import erfcx, ndtr

# Re x above which erfcx(x) is computed through U(1/2, 1/2, x^2). Below about 7, Arb's U on
# balls of radius 0.1 often returns no finite enclosure. Above it, the U form needed a tenth of
# the evaluations of exp(x^2) erfc(x) for the perceptron's weight (measured with python-flint
# 0.9 at 100 and 200 digits).
ERFCX_TRICOMI_THRESHOLD = 7


def compile_acb(expr, var):
    """Compile the SymPy expression ``expr`` in ``var`` to a function of one ``acb`` ball.

    Constants are evaluated at the Arb precision in force at call time. Supported: numbers,
    pi, E, +, *, integer powers, powers of constants, exp, erf, erfc, ndtr and erfcx. A branch
    function of ``var`` (a fractional power, log) raises ``NotImplementedError``, because
    ``acb.integral`` would need its branch cuts handled.
    """
    return _compile(sp.sympify(expr), var)


def _compile(expr, var):
    if expr == var:
        return lambda z: z
    if not expr.has(var):
        return _compile_constant(expr)
    if expr.is_Add:
        parts = [_compile(arg, var) for arg in expr.args]
        return lambda z: _sum(part(z) for part in parts)
    if expr.is_Mul:
        parts = [_compile(arg, var) for arg in expr.args]
        return lambda z: _product(part(z) for part in parts)
    if expr.is_Pow:
        base, exponent = expr.args
        if not exponent.is_Integer:
            raise NotImplementedError(f"the power {expr} is not analytic everywhere; only integer powers of {var} are supported")
        compiled_base = _compile(base, var)
        n = int(exponent)
        return lambda z: compiled_base(z) ** n
    if isinstance(expr, sp.exp):
        argument = _compile(expr.args[0], var)
        return lambda z: argument(z).exp()
    if isinstance(expr, sp.erfc):
        argument = _compile(expr.args[0], var)
        return lambda z: argument(z).erfc()
    if isinstance(expr, sp.erf):
        argument = _compile(expr.args[0], var)
        return lambda z: argument(z).erf()
    if isinstance(expr, ndtr):
        argument = _compile(expr.args[0], var)
        return lambda z: (-argument(z) / arb(2).sqrt()).erfc() / 2
    if isinstance(expr, erfcx):
        argument = _compile(expr.args[0], var)
        return lambda z: acb_erfcx(argument(z))
    raise NotImplementedError(f"no Arb evaluation for {type(expr).__name__} in {expr}")


def _compile_constant(expr):
    if expr.is_Integer:
        value = int(expr)
        return lambda z: acb(value)
    if expr.is_Rational:
        numerator, denominator = int(expr.p), int(expr.q)
        return lambda z: acb(numerator) / denominator
    if expr == sp.pi:
        return lambda z: acb(arb.pi())
    if expr == sp.E:
        return lambda z: acb(arb.const_e())
    if expr.is_Pow:
        base, exponent = (_compile_constant(arg) for arg in expr.args)
        if expr.args[0].is_positive:
            return lambda z: acb(base(z).real ** exponent(z).real)
        return lambda z: base(z) ** exponent(z)
    if expr.is_Add or expr.is_Mul:
        parts = [_compile_constant(arg) for arg in expr.args]
        combine = _sum if expr.is_Add else _product
        return lambda z: combine(part(z) for part in parts)
    if isinstance(expr, (sp.exp, sp.erf, sp.erfc)):
        argument = _compile_constant(expr.args[0])
        name = type(expr).__name__
        return lambda z: getattr(argument(z), name)()
    raise NotImplementedError(f"no Arb evaluation for the constant {expr}")


def _sum(values):
    total = acb(0)
    for value in values:
        total += value
    return total


def _product(values):
    total = acb(1)
    for value in values:
        total *= value
    return total


def acb_erfcx(x):
    """Enclose erfcx(x) = exp(x^2) erfc(x) on the ball ``x``."""
    if x.real.lower() > ERFCX_TRICOMI_THRESHOLD:
        half = acb(1) / 2
        return (x * x).hypgeom_u(half, half) / arb.pi().sqrt()
    return (x * x).exp() * x.erfc()


class BallIntegrand:
    """An integrand for ``acb.integral`` with a plain and a scaled form of the same function.

    The scaled form (with erfcx) is used on balls where every erfcx argument has real part
    above ``ERFCX_TRICOMI_THRESHOLD``, the plain form elsewhere. Both forms must be
    meromorphic in ``var``, so poles show up as non-finite balls and the ``analytic`` flag of
    ``acb.integral`` needs no handling.
    """

    def __init__(self, plain, scaled, var):
        self.plain = compile_acb(plain, var)
        self.scaled = compile_acb(scaled, var)
        self.erfcx_arguments = [compile_acb(node.args[0], var) for node in sp.sympify(scaled).atoms(erfcx)]
        self.evaluations = 0

    def __call__(self, z, analytic=False):
        self.evaluations += 1
        if self.erfcx_arguments and all(
                argument(z).real.lower() > ERFCX_TRICOMI_THRESHOLD for argument in self.erfcx_arguments):
            return self.scaled(z)
        return self.plain(z)


def certified_integral(integrand, breakpoints, bits):
    """Return an ``arb`` ball that contains the integral of ``integrand`` over the breakpoints.

    ``integrand`` is a function for ``acb.integral`` (a ``BallIntegrand``, say) that is real on
    the real line. ``breakpoints`` are increasing real numbers. Each piece between them is
    integrated to an absolute tolerance of 2^-bits divided by the number of pieces, and Arb
    works at ``bits`` plus a guard. Raises ``ArithmeticError`` if Arb returns no finite enclosure.
    """
    pieces = list(zip(breakpoints[:-1], breakpoints[1:]))
    if not pieces or any(b <= a for a, b in pieces):
        raise ValueError(f"breakpoints {breakpoints} are invalid: expected at least two increasing numbers")
    guard = 16 + math.ceil(math.log2(len(pieces)))
    with flint.ctx.workprec(bits + guard):
        tolerance = arb(2) ** (-(bits + math.ceil(math.log2(len(pieces)))))
        total = acb(0)
        for a, b in pieces:
            total += acb.integral(integrand, arb(a), arb(b), abs_tol=tolerance, rel_tol=tolerance)
        if not total.real.is_finite():
            raise ArithmeticError(f"Arb found no finite enclosure of the integral over {breakpoints[0]}..{breakpoints[-1]}")
        if not total.imag.contains(0):
            raise ArithmeticError(f"the integral of a real integrand has a non-zero imaginary part {total.imag}")
        return total.real
