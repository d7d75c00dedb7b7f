"""Large-alpha expansion of the Bayes-optimal fixed point, derived from the state-evolution map.

As alpha grows, q -> rho and the Gaussian expectation in qhat = alpha E_xi[...] concentrates on a
window of width sqrt(delta / q) in xi, where delta = rho - q. The derivation

1. substitutes rho = q + delta and xi = sqrt(delta / q) t, so the integrand is O(1) wide in t;
2. folds the label terms onto one (the term of label -1 at -t equals the term of label +1 at t);
3. expands in delta at fixed t: qhat = alpha delta^(-1/2) sum_j A_j delta^j, where each A_j is a
   combination of the moments m_j = int t^(2j) w(t) dt of the weight w(t) (the leading
   coefficient at rho = 1), all of which converge;
4. solves the fixed point delta = rho - q(qhat) order by order in epsilon = 1 / alpha, with
   delta / rho = epsilon^2 v^2 and v a power series in epsilon;
5. expands eps_Bayes = arccos(sqrt(q / rho)) / pi and eps_Gibbs = arccos(q / rho) / pi, so that
   alpha eps = C (1 + c_1 epsilon + c_2 epsilon^2 + ...).

Which powers of 1 / alpha appear is read off the result: for the perceptron the odd ones vanish
identically, so the first correction is c_2 / alpha^2. The constants come out as k = m_0,
C_Bayes = 1 / (k pi) and C_Gibbs = sqrt(2) / (k pi).
"""

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.identities import ndtr, scale_ndtr
from replica_tools.symbolic.replica import (
    gaussian_expectation,
    generalization_errors,
    state_evolution_equations,
)

delta = sp.Symbol("delta", positive=True)  # rho - q, the distance of the overlap from its maximum
epsilon = sp.Symbol("epsilon", positive=True)  # 1 / alpha
k = sp.Symbol("k", positive=True)  # k = m_0, so that qhat ~ k^2 alpha^2 at rho = 1
_v = sp.Symbol("v", positive=True)  # sqrt(delta / rho) / epsilon, O(1) as alpha -> oo
_x = sp.Symbol("x", positive=True)  # sqrt(delta / rho), the expansion variable of the errors


def moment_symbol(j):
    """Return the symbol of the moment m_j = int t^(2j) w(t) dt (m_0 is ``k``)."""
    if j == 0:
        return k
    return sp.Symbol(f"m_{j}", positive=True)


def rescaled_qhat_integrand(equations):
    """Return the integrand in t of qhat / alpha, per label, in the symbols (t, q, delta).

    ``equations`` is a ``FixedPointEquations``. The substitution rho = q + delta (rather than
    q = rho - delta) keeps q a positive symbol, so SymPy simplifies sqrt(q) sqrt(delta / q) t /
    sqrt(delta) to t, which is what makes the label arguments O(1).
    """
    integrand = gaussian_expectation(equations.qhat_integrand).function
    scale = sp.sqrt(delta / s.q)
    terms = []
    for term in sp.Add.make_args(sp.expand(integrand)):
        term = term.subs(s.rho, s.q + delta).subs(s.xi, scale * s.t) * scale
        terms.append(sp.powsimp(sp.simplify(term), combine="exp"))
    return tuple(terms)


def fold_labels(terms, var=s.t):
    """Map each term whose ndtr has a negative slope in ``var`` to ``var -> -var`` and sum.

    Under an integral over the whole line, f(t) and f(-t) have the same integral, so the sum of
    label terms becomes a multiple of one term. A slope counts as negative when it carries a
    minus sign (-sqrt(q) / sqrt(1 - q), say), which needs no assumption on the sign of 1 - q.
    A term with ndtr of both signs is rejected.
    """
    folded = []
    for term in terms:
        negative = {sp.diff(node.args[0], var).could_extract_minus_sign()
                    for node in term.atoms(ndtr) if node.has(var)}
        if len(negative) > 1:
            raise ValueError(f"term {term} has ndtr of both slope signs in {var}; it cannot be folded")
        folded.append(term.subs(var, -var) if negative == {True} else term)
    return sp.simplify(sp.Add(*folded))


@dataclass(frozen=True)
class ErrorExpansion:
    """alpha eps = constant (1 + sum over (power, coefficient) of coefficient alpha^(-power)).

    ``constant`` and the coefficients are expressions in k and the moment symbols m_j. Only
    non-zero coefficients are listed, in increasing power.
    """

    constant: sp.Expr
    corrections: tuple

    @property
    def first_correction(self):
        """(power, coefficient) of the leading correction, or None if none was carried."""
        return self.corrections[0] if self.corrections else None


@dataclass(frozen=True)
class LargeAlphaExpansion:
    """The large-alpha expansion of a model's Bayes-optimal fixed point, to a given order.

    Attributes
    ----------
    corrections : int
        Orders carried beyond the leading one: delta to delta^corrections, and the errors to
        alpha^(-2 corrections) relative to their constants.
    integrand : sympy.Expr
        The folded integrand in (t, q, delta): qhat = alpha int integrand dt over the real line.
    weight : sympy.Expr
        w(t) such that k = int w dt, the coefficient of delta^(-1/2) at rho = 1.
    qhat_coefficients : tuple
        A_0, A_1, ... with qhat = alpha delta^(-1/2) sum_j A_j delta^j, in rho, k and m_j.
    overlap_coefficients : tuple
        v_0, v_1, ... with delta / rho = (v_0 + v_1 / alpha + v_2 / alpha^2 + ...)^2 / alpha^2.
    bayes, gibbs : ErrorExpansion
        alpha eps_Bayes and alpha eps_Gibbs.
    """

    corrections: int
    integrand: sp.Expr
    weight: sp.Expr
    qhat_coefficients: tuple
    overlap_coefficients: tuple
    bayes: ErrorExpansion
    gibbs: ErrorExpansion

    @property
    def moment_symbols(self):
        """k, m_1, ..., m_corrections: the moments the coefficients use."""
        return tuple(moment_symbol(j) for j in range(self.corrections + 1))

    def moment_integrand(self, j):
        """Return t^(2j) w(t), whose integral over the real line is m_j."""
        return s.t ** (2 * j) * self.weight

    def moment_integral(self, j):
        """Return m_j as an unevaluated SymPy integral."""
        return sp.Integral(self.moment_integrand(j), (s.t, -sp.oo, sp.oo))

    @property
    def k_integral(self):
        """k = int w(t) dt as an unevaluated SymPy integral."""
        return self.moment_integral(0)

    @cached_property
    def scaled_weight(self):
        """w(t) with each Gaussian-over-Phi ratio written through erfcx (see ``identities.scale_ndtr``)."""
        return scale_ndtr(self.weight)


def _qhat_series(integrand, rho, corrections):
    """Expand sqrt(delta) * integrand in delta at q = rho - delta; return the coefficients in t."""
    at_rho = sp.expand(integrand.subs(s.q, rho - delta) * sp.sqrt(delta))
    series = sp.series(at_rho, delta, 0, corrections + 1).removeO()
    series = sp.expand(series)
    return tuple(sp.simplify(series.coeff(delta, j)) for j in range(corrections + 1))


def _as_moments(coefficient, weight, var=s.t):
    """Write int coefficient(t) dt as a combination of the moments of ``weight``.

    ``coefficient / weight`` must be a polynomial in t with even powers only, because every
    delta-derivative of exp(-delta t^2 / (2q)) brings down a factor t^2.
    """
    ratio = sp.simplify(coefficient / weight)
    polynomial = sp.Poly(sp.expand(ratio), var)
    combination = 0
    for (power,), value in polynomial.terms():
        if power % 2:
            raise ValueError(f"odd power t^{power} in the delta expansion; the moment form does not apply")
        combination += value * moment_symbol(power // 2)
    return sp.expand(combination)


def _multiply(first, second, order):
    """Multiply two power series in epsilon, given as coefficient lists, truncated at epsilon^order."""
    product = [sp.S.Zero] * (order + 1)
    for i, a in enumerate(first):
        if a == 0:
            continue
        for j, b in enumerate(second[:order + 1 - i]):
            product[i + j] += a * b
    return [sp.expand(c) for c in product]


def _compose(polynomial, variable, inner, order):
    """Return the epsilon coefficients of ``polynomial(variable)`` at variable = sum inner[i] epsilon^i.

    ``polynomial`` may contain epsilon itself, and the result is truncated at epsilon^order.
    Truncating every product keeps the expressions small, where expanding the composition in
    full and reading coefficients off afterwards grows them with the order.
    """
    polynomial = sp.Poly(sp.expand(polynomial), variable, epsilon)
    result = [sp.S.Zero] * (order + 1)
    power = [sp.S.One] + [sp.S.Zero] * order
    for n in range(polynomial.degree(variable) + 1):
        for a in range(order + 1):
            coefficient = polynomial.coeff_monomial(variable**n * epsilon**a)
            if coefficient == 0:
                continue
            for i in range(order + 1 - a):
                result[a + i] += coefficient * power[i]
        power = _multiply(power, inner, order)
    return [sp.expand(c) for c in result]


def _solve_overlap_series(delta_of_qhat, qhat_coefficients, rho, order):
    """Solve delta = delta_of_qhat(qhat(delta)) for v in delta / rho = epsilon^2 v^2, to epsilon^order."""
    qhat_of_delta = sp.solve(sp.Eq(delta, delta_of_qhat), s.qhat)
    if len(qhat_of_delta) != 1:
        raise ValueError(f"expected one solution qhat(delta) of delta = {delta_of_qhat}, got {qhat_of_delta}")
    qhat_of_delta = qhat_of_delta[0]

    # qhat(delta) from the prior side equals alpha delta^(-1/2) sum_j A_j delta^j from the
    # channel side. Multiplied by delta, both sides are polynomials in epsilon and v once
    # delta = rho epsilon^2 v^2 and alpha = 1 / epsilon.
    series = sp.Add(*(a * delta**j for j, a in enumerate(qhat_coefficients)))
    equation = sp.expand(delta * qhat_of_delta - sp.sqrt(delta) * series / epsilon)
    equation = sp.expand(equation.subs(delta, rho * epsilon**2 * _v**2))

    leading = [r for r in sp.solve(equation.subs(epsilon, 0), _v) if r.is_positive]
    if len(leading) != 1:
        raise ValueError(f"the leading order of the fixed point has positive roots {leading}, expected one")
    solved = [sp.factor(leading[0])]
    unknown = sp.Symbol("v_next")
    for i in range(1, order + 1):
        # The coefficient of epsilon^i is linear in v_i, with the slope of the leading order.
        coefficient = _compose(equation, _v, solved + [unknown], i)[i]
        slope = sp.diff(coefficient, unknown)
        if slope == 0:
            raise ValueError(f"order epsilon^{i} of the fixed point does not determine v_{i}")
        solved.append(sp.factor(sp.cancel(-coefficient.subs(unknown, 0) / slope)))
    return tuple(solved)


def _error_series(error_of_x, overlap_coefficients, order):
    """Expand alpha * error(x) with x = epsilon v, v = sum v_i epsilon^i, to epsilon^order.

    alpha error(x) = v * (error(x) / x), and error(x) / x is a power series in x.
    """
    per_x = sp.series(error_of_x / _x, _x, 0, order + 1).removeO()
    v = list(overlap_coefficients)
    x = [sp.S.Zero] + v[:order]
    coefficients = _multiply(v, _compose(per_x, _x, x, order), order)
    constant = sp.factor(coefficients[0])
    corrections = tuple(
        (i, sp.factor(sp.cancel(c / constant))) for i, c in enumerate(coefficients) if i and sp.cancel(c) != 0
    )
    return ErrorExpansion(constant, corrections)


def large_alpha_expansion(model, corrections=2):
    """Derive the large-alpha expansion of ``model``'s Bayes-optimal fixed point.

    ``corrections`` (an integer >= 0) is the number of orders in delta carried beyond the
    leading one; the errors then come to relative order alpha^(-2 corrections). The weight and
    the moments are those of the rho = 1 integrand, and the rho dependence stays in the
    coefficients. For the sign channel alpha eps comes out independent of rho, because
    y = sign(X w* / sqrt(n)) does not change when w* is scaled.

    Raises ``ValueError`` for a model with a numeric rho other than 1 (derive with the symbol
    rho instead), and when an order of the expansion does not have the expected form.
    """
    if isinstance(corrections, bool) or not isinstance(corrections, int) or corrections < 0:
        raise ValueError(f"corrections = {corrections!r} is invalid: expected an integer >= 0")
    rho = model.rho
    if not rho.free_symbols and rho != 1:
        raise ValueError(f"rho = {rho} is invalid here: derive the expansion with a symbolic rho or rho = 1")
    equations = state_evolution_equations(model)

    integrand = fold_labels(rescaled_qhat_integrand(equations))
    coefficients_in_t = _qhat_series(integrand, rho, corrections)
    weight = sp.simplify(coefficients_in_t[0].subs(s.rho, 1))
    qhat_coefficients = tuple(_as_moments(c, weight) for c in coefficients_in_t)

    delta_of_qhat = sp.simplify(rho - equations.q_of_qhat)
    order = 2 * corrections
    overlap = _solve_overlap_series(delta_of_qhat, qhat_coefficients, rho, order)

    eps_bayes, eps_gibbs = generalization_errors(rho)
    at_x = {s.q: rho * (1 - _x**2)}
    bayes = _error_series(eps_bayes.subs(at_x), overlap, order)
    gibbs = _error_series(eps_gibbs.subs(at_x), overlap, order)
    return LargeAlphaExpansion(corrections, integrand, weight, qhat_coefficients, overlap, bayes, gibbs)


def leading_order_overlap(model, expansion):
    """Solve the leading-order fixed point in closed form and return q_b(alpha, k, rho).

    Keeping only A_0 in qhat = alpha delta^(-1/2) A_0 but the exact prior side
    delta = rho - q(qhat) gives a quadratic in sqrt(delta); q_b is its root in (0, rho).
    """
    rho = model.rho
    equations = state_evolution_equations(model)
    root = sp.Symbol("u", positive=True)  # sqrt(delta)
    delta_of_qhat = sp.simplify(rho - equations.q_of_qhat)
    qhat_leading = s.alpha * expansion.qhat_coefficients[0] / root
    equation = sp.numer(sp.together(root**2 - delta_of_qhat.subs(s.qhat, qhat_leading)))
    roots = sp.solve(equation, root)
    if len(roots) != 1:
        raise ValueError(f"the leading-order fixed point has positive roots {roots}, expected one")
    return sp.simplify(rho - roots[0] ** 2)
