"""Integrals against a Gaussian density, with step functions turned into integration bounds.

SymPy's ``integrate`` does not resolve ``Heaviside(a*t + b)`` against a Gaussian with symbolic
``b`` (it returns a Piecewise with contradictory conditions), so a step function whose argument
is linear in the integration variable is replaced by the half line it selects.
"""

import sympy as sp

from replica_tools.symbolic.identities import ndtr


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


def _gaussian_factors(term, var):
    """Split ``term`` into (exponent, ndtr factors in var, rest).

    The exponent is the sum of the arguments of every exp factor. The ndtr factors are those
    whose argument contains var.
    """
    exponent = sp.Integer(0)
    ndtr_factors = []
    rest = []
    for factor in sp.Mul.make_args(term):
        if isinstance(factor, sp.exp):
            exponent += factor.args[0]
        elif factor.is_Pow and isinstance(factor.base, sp.exp):
            exponent += factor.base.args[0] * factor.exp
        elif isinstance(factor, ndtr) and factor.args[0].has(var):
            ndtr_factors.append(factor)
        else:
            rest.append(factor)
    return sp.expand(exponent), ndtr_factors, sp.Mul(*rest)


def _completed_square(exponent, var):
    """Return (scale, mu, sigma) with exp(exponent) = scale * exp(-(var - mu)^2 / (2 sigma^2)), or None.

    Only an exponent quadratic in var with a negative leading coefficient qualifies.
    """
    if not exponent.is_polynomial(var):
        return None
    exponent_poly = sp.Poly(exponent, var)
    if exponent_poly.degree() != 2:
        return None
    a, b, c = (exponent_poly.coeff_monomial(var**k) for k in (2, 1, 0))
    if not a.is_negative:
        return None
    return sp.exp(c - b**2 / (4 * a)), -b / (2 * a), sp.sqrt(-1 / (2 * a))


def _truncated_moment(order, lower):
    """Return int_lower^oo s^order phi(s) ds for the standard normal density phi.

    J_0 = Phi(-lower), J_1 = phi(lower), and J_k = lower^(k-1) phi(lower) + (k-1) J_(k-2) by
    parts. At lower = -oo these are the full moments (k-1)!!.
    """
    if lower == -sp.oo:
        return _standard_normal_moment(order)
    if order == 0:
        return ndtr(-lower)
    if order == 1:
        return standard_normal_pdf(lower)
    return lower ** (order - 1) * standard_normal_pdf(lower) + (order - 1) * _truncated_moment(order - 2, lower)


def _polynomial_gaussian_integral(term, var, lower=-sp.oo, upper=sp.oo):
    """Integrate polynomial(var) * exp(a var^2 + b var + c) over [lower, upper], a < 0, or return None.

    Completing the square gives exp(c - b^2/(4a)) sqrt(pi / -a) E[P(mu + sigma Z) 1{...}] with
    mu = -b / (2a), sigma^2 = -1 / (2a), and the full and the truncated Gaussian moments are
    known exactly. This is the integral SymPy's ``integrate`` reaches through Meijer G functions,
    seconds later. On the whole line a single factor Phi(p var + r) is allowed in place of the
    polynomial: E[Phi(p (mu + sigma Z) + r)] = Phi((p mu + r) / sqrt(1 + p^2 sigma^2)).
    """
    exponent, ndtr_factors, polynomial = _gaussian_factors(term, var)
    square = _completed_square(exponent, var)
    if square is None or not polynomial.is_polynomial(var):
        return None
    scale, mu, sigma = square
    scale = scale * sp.sqrt(2 * sp.pi) * sigma

    if ndtr_factors:
        argument = sp.expand(ndtr_factors[0].args[0])
        slope = argument.coeff(var)
        whole_line = lower == -sp.oo and upper == sp.oo
        if len(ndtr_factors) > 1 or not whole_line or polynomial.has(var) or (argument - slope * var).has(var):
            return None
        offset = argument - slope * var
        return scale * polynomial * ndtr((slope * mu + offset) / sp.sqrt(1 + slope**2 * sigma**2))

    standard_lower = -sp.oo if lower == -sp.oo else (lower - mu) / sigma
    standard_upper = sp.oo if upper == sp.oo else (upper - mu) / sigma
    shifted = sp.Poly(sp.expand(polynomial.subs(var, mu + sigma * var)), var)
    moments = 0
    for monomial, coefficient in zip(shifted.monoms(), shifted.coeffs()):
        order = monomial[0]
        moment = _truncated_moment(order, standard_lower)
        if standard_upper != sp.oo:
            moment -= _truncated_moment(order, standard_upper)
        moments += coefficient * moment
    return scale * moments


def closed_form_over_line(expr, var):
    """Integrate ``expr`` over the real line by the rules of this module only, or return None.

    Unlike ``integrate_over_line`` this never calls SymPy's ``integrate``, because that can take
    minutes on an integrand without a closed form. None means the caller must integrate
    numerically.
    """
    total = 0
    for term in sp.Add.make_args(sp.expand(expr, deep=False)):
        factor, lower, upper = _split_heaviside(term, var)
        result = _polynomial_gaussian_integral(factor, var, lower, upper)
        if result is None:
            return None
        total += result
    return total


def integrate_over_line(expr, var):
    """Integrate ``expr`` over the real line in ``var``, resolving linear step functions.

    Gaussian-times-polynomial terms (on the line or a half line) and Gaussian-times-Phi terms are
    integrated in closed form directly; other terms go to SymPy's ``integrate``, which returns an
    unevaluated ``sp.Integral`` where it finds no closed form.
    """
    total = 0
    for term in sp.Add.make_args(sp.expand(expr, deep=False)):
        factor, lower, upper = _split_heaviside(term, var)
        result = _polynomial_gaussian_integral(factor, var, lower, upper)
        if result is None:
            result = sp.integrate(factor, (var, lower, upper))
        total += result
    return total


def gaussian_terms(expr, var):
    """Write ``expr`` as sum_k weight_k N(var; mean_k, variance_k); return the (weight, mean, variance) triples.

    Each term of ``expr`` must be exp(quadratic in var, opening downward) times factors that are
    free of var or are Phi of an expression in var. Those factors and the constant left from
    completing the square form the weight. Raises ValueError for a term of another shape. The
    channels with Gaussian label noise have this form in y, both P_out(y | z) and Z_out(y, omega, V).
    """
    triples = []
    for term in sp.Add.make_args(sp.expand(expr)):
        exponent, ndtr_factors, rest = _gaussian_factors(term, var)
        square = _completed_square(exponent, var) if exponent.has(var) else None
        if square is None or rest.has(var):
            raise ValueError(f"the term {term} is not a Gaussian in {var} times factors free of it")
        scale, mean, sigma = square
        weight = rest * sp.Mul(*ndtr_factors) * scale * sp.sqrt(2 * sp.pi) * sigma
        triples.append((sp.simplify(weight), sp.simplify(mean), sp.simplify(sigma**2)))
    return triples
