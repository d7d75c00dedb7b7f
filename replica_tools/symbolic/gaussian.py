"""Integrals against a Gaussian density, with step functions turned into integration bounds.

SymPy's ``integrate`` does not resolve ``Heaviside(a*t + b)`` against a Gaussian with symbolic
``b`` (it returns a Piecewise with contradictory conditions), so a step function whose argument
is linear in the integration variable is replaced by the half line it selects.
"""

import sympy as sp


def standard_normal_pdf(x):
    """Return the N(0, 1) density at ``x`` as a SymPy expression."""
    return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


def _split_heaviside(term, var):
    """Split a product into (factor without steps, lower bound, upper bound).

    Each ``Heaviside(a*var + b)`` with a of known sign narrows the interval. A step whose slope
    sign SymPy cannot decide is rejected, because the half line it selects is then unknown.
    """
    lower, upper = -sp.oo, sp.oo
    factors = []
    for factor in sp.Mul.make_args(term):
        if not isinstance(factor, sp.Heaviside) or not factor.args[0].has(var):
            factors.append(factor)
            continue

        argument = sp.expand(factor.args[0])
        slope = argument.coeff(var)
        if not (argument - slope * var).free_symbols.isdisjoint({var}) or slope == 0:
            raise ValueError(f"step argument {argument} is not linear in {var}")

        root = sp.simplify(-(argument - slope * var) / slope)
        if slope.is_positive:
            lower = root if lower == -sp.oo else sp.Max(lower, root)
        elif slope.is_negative:
            upper = root if upper == sp.oo else sp.Min(upper, root)
        else:
            raise ValueError(f"sign of the step slope {slope} is unknown; declare the symbol's sign")
    return sp.Mul(*factors), lower, upper


def _standard_normal_moment(order):
    """Return E[Z^order] for Z ~ N(0, 1): (order - 1)!! for even order, 0 for odd."""
    return sp.factorial2(order - 1) if order % 2 == 0 else sp.Integer(0)


def _polynomial_gaussian_integral(term, var):
    """Integrate polynomial(var) * exp(a var^2 + b var + c) over the line, a < 0, or return None.

    Completing the square gives exp(c - b^2/(4a)) sqrt(pi / -a) E[P(mu + sigma Z)] with
    mu = -b / (2a), sigma^2 = -1 / (2a), and the Gaussian moments are known exactly. This is the
    integral SymPy's ``integrate`` reaches through Meijer G functions, seconds later.
    """
    exponent = sp.Integer(0)
    rest = []
    for factor in sp.Mul.make_args(term):
        if isinstance(factor, sp.exp):
            exponent += factor.args[0]
        elif factor.is_Pow and isinstance(factor.base, sp.exp):
            exponent += factor.base.args[0] * factor.exp
        else:
            rest.append(factor)
    polynomial = sp.Mul(*rest)
    exponent = sp.expand(exponent)
    if not (exponent.is_polynomial(var) and polynomial.is_polynomial(var)):
        return None
    exponent_poly = sp.Poly(exponent, var)
    if exponent_poly.degree() != 2:
        return None
    a, b, c = (exponent_poly.coeff_monomial(var**k) for k in (2, 1, 0))
    if not a.is_negative:
        return None

    mu = -b / (2 * a)
    sigma = sp.sqrt(-1 / (2 * a))
    shifted = sp.Poly(sp.expand(polynomial.subs(var, mu + sigma * var)), var)
    moments = sum(
        coefficient * _standard_normal_moment(monomial[0])
        for monomial, coefficient in zip(shifted.monoms(), shifted.coeffs())
    )
    return sp.exp(c - b**2 / (4 * a)) * sp.sqrt(sp.pi / -a) * moments


def integrate_over_line(expr, var):
    """Integrate ``expr`` over the real line in ``var``, resolving linear step functions.

    Gaussian-times-polynomial terms are integrated in closed form directly; other terms go to
    SymPy's ``integrate``, which returns an unevaluated ``sp.Integral`` where it finds no closed
    form.
    """
    total = 0
    for term in sp.Add.make_args(sp.expand(expr, deep=False)):
        factor, lower, upper = _split_heaviside(term, var)
        result = None
        if lower == -sp.oo and upper == sp.oo:
            result = _polynomial_gaussian_integral(factor, var)
        if result is None:
            result = sp.integrate(factor, (var, lower, upper))
        total += result
    return total
