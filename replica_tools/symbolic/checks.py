"""Checks of the identities that link GAMP, state evolution and the replica formula.

Each check derives both sides from the model declaration and returns a ``CheckResult``: holds,
fails (with the residual and a point where the two sides disagree) or does not apply (with the
reason, for example the Gaussian-prior reduction asked of a binary prior). A check first asks
SymPy whether the difference simplifies to zero and otherwise compares the two sides with
mpmath at ``DIGITS`` digits, at a few points, with Gaussian integrals done by tanh-sinh
quadrature. Every check takes the expression under test as an optional argument, so a test can
feed it a wrong one and see it fail.
"""

import logging
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.free_entropy import (PAIRS, Q, Qhat, integrand_of, m, mhat, nishimori_substitution,
                                                 rs_free_entropy)
from replica_tools.symbolic.gaussian import closed_form_over_line, standard_normal_pdf
from replica_tools.symbolic.identities import to_ndtr
from replica_tools.symbolic.replica import state_evolution_equations

logger = logging.getLogger(__name__)

HOLDS = "holds"
FAILS = "fails"
NOT_APPLICABLE = "does not apply"

DIGITS = 30
# Relative tolerance of a numerical comparison at DIGITS digits: quadrature of smooth
# integrands keeps well over 20 of them.
RELATIVE_TOLERANCE = mpmath.mpf(10) ** -20
STATIONARITY_TOLERANCE = 1e-10
# Gaussian integrals over xi stop at |xi| = 40, where the weight exp(-xi^2 / 2) is below 1e-347.
GAUSSIAN_SPLIT_POINTS = (-40, -3, 0, 3, 40)

MPMATH_FUNCTIONS = {
    "ndtr": mpmath.ncdf,
    "log_ndtr": lambda x: mpmath.log(mpmath.ncdf(x)),
    "erfcx": lambda x: mpmath.exp(x**2) * mpmath.erfc(x),
}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one identity check.

    ``status`` is ``"holds"``, ``"fails"`` or ``"does not apply"``. ``residual`` is the largest
    difference of the two sides found (relative to the larger side, or the scaled gradient),
    ``counterexample`` the point where a failing check saw it, and ``method`` how it was decided.
    """

    name: str
    status: str
    detail: str
    residual: float = None
    counterexample: dict = field(default=None)
    method: str = ""

    @property
    def holds(self):
        return self.status == HOLDS

    @property
    def applies(self):
        return self.status != NOT_APPLICABLE


def numeric_value(expr, point=None, dps=DIGITS):
    """Evaluate ``expr`` at ``point`` with mpmath at ``dps`` digits, integrals by quadrature.

    erf and erfc are first written through the normal distribution function, so that 1 + erf(x)
    keeps its digits for x << 0.
    """
    expr = to_ndtr(sp.sympify(expr).subs(point or {}))
    with mpmath.workdps(dps + 10):
        return _evaluate(expr)


def _lambdify(args, expr):
    return sp.lambdify(args, expr, modules=[MPMATH_FUNCTIONS, "mpmath"])


def _evaluate(expr):
    if isinstance(expr, sp.Integral):
        return _quadrature(expr)
    if expr.has(sp.Integral):
        values = {integral: sp.Float(_quadrature(integral), mpmath.mp.dps) for integral in _outermost_integrals(expr)}
        return _evaluate(expr.xreplace(values))
    if expr.free_symbols:
        raise ValueError(f"cannot evaluate: the symbols {sorted(map(str, expr.free_symbols))} have no value")
    return mpmath.mpmathify(_lambdify((), expr)())


def _outermost_integrals(expr):
    if isinstance(expr, sp.Integral):
        return {expr}
    return set().union(*(_outermost_integrals(arg) for arg in expr.args))


def _quadrature(integral):
    if len(integral.limits) != 1:
        # NOTE: integrals over several variables (real-valued labels) are not evaluated.
        raise NotImplementedError(f"numerical evaluation of an integral over {len(integral.limits)} variables "
                                  "(for example over real-valued labels) is not implemented")
    (var, lower, upper), = integral.limits
    body = integral.function
    if body.has(sp.Integral):
        def function(x):
            return _evaluate(body.subs(var, sp.Float(x, mpmath.mp.dps)))
    else:
        function = _lambdify((var,), body)
    if lower == -sp.oo and upper == sp.oo:
        interval = list(GAUSSIAN_SPLIT_POINTS)
    else:
        interval = [mpmath.mpmathify(_evaluate(lower)) if lower != -sp.oo else -mpmath.inf,
                    mpmath.mpmathify(_evaluate(upper)) if upper != sp.oo else mpmath.inf]
    return mpmath.quad(function, interval)


def _describe(point):
    return ", ".join(f"{symbol} = {sp.N(value, 6)}" for symbol, value in point.items())


def compare(name, left, right, points, what):
    """Compare two expressions: symbolically if SymPy decides, else at ``points`` numerically."""
    difference = left - right
    if not difference.has(sp.Integral):
        try:
            if sp.simplify(difference.rewrite(sp.erfc)) == 0:
                return CheckResult(name, HOLDS, f"{what}: the difference simplifies to 0", 0.0, None, "symbolic")
        except (TypeError, NotImplementedError) as error:
            logger.debug("%s: simplify failed (%s), comparing numerically", name, error)

    worst = mpmath.mpf(0)
    with mpmath.workdps(DIGITS + 10):
        for point in points:
            left_value, right_value = numeric_value(left, point), numeric_value(right, point)
            residual = abs(left_value - right_value) / max(1, abs(left_value), abs(right_value))
            worst = max(worst, residual)
            if residual > RELATIVE_TOLERANCE:
                return CheckResult(
                    name, FAILS,
                    f"{what}: at {_describe(point)} one side gives {mpmath.nstr(left_value, 12)}, "
                    f"the other {mpmath.nstr(right_value, 12)}",
                    float(residual), dict(point), f"numeric, {DIGITS} digits")
    return CheckResult(name, HOLDS, f"{what}: equal at {_count(points)} to {DIGITS} digits",
                       float(worst), None, f"numeric at {_count(points)}, {DIGITS} digits")


def _count(points):
    return "1 point" if len(points) == 1 else f"{len(points)} points"


def not_applicable(name, reason):
    """Return the result of a check that does not apply to the model, with the reason."""
    return CheckResult(name, NOT_APPLICABLE, reason, method="not run")


def numeric_rho(model, rho=1):
    """Return the teacher's rho as a number: the model's own, or ``rho`` if the model keeps it symbolic."""
    value = sp.sympify(model.rho).subs(s.rho, rho)
    return value if value.is_number else sp.Integer(rho)


def _labels(model):
    """Return the keys of the derived output tables: each label, or the symbol y for real labels."""
    return model.channel.label_keys


def _per_label(model, table, override, label):
    if override is None:
        return table[label]
    return override[label] if isinstance(override, dict) else override


def _output_points(model):
    rho = numeric_rho(model)
    # y takes a value only for real labels, where the tables are keyed by the symbol y.
    return [{s.omega: sp.Rational(3, 10), s.V: sp.Rational(1, 2), s.rho: rho, s.y: sp.Rational(7, 10)},
            {s.omega: -2, s.V: 3, s.rho: rho, s.y: sp.Rational(-3, 2)},
            {s.omega: sp.Rational(5, 2), s.V: sp.Rational(1, 10), s.rho: rho, s.y: sp.Rational(2, 5)}]


def _finite_labels_or_reason(model, name):
    if model.channel.continuous:
        return not_applicable(name, f"channel {model.channel.name} has real-valued labels; the check "
                                    "sums over a finite label set")
    return None


def check_f_out_is_log_derivative(model, f_out=None):
    """Check f_out = d_omega log Z_out for every label. ``f_out``: an expression or {label: expression}."""
    name = "f_out = d_omega log Z_out"
    results = []
    for label in _labels(model):
        claimed = _per_label(model, model.output.f_out, f_out, label)
        derivative = sp.diff(sp.log(model.output.Z_out[label]), s.omega)
        results.append(compare(name, claimed, derivative, _output_points(model), f"y = {label}"))
    return _combine(name, results)


def _combine(name, results):
    """Combine results into one: the first failure, or else a pass with the largest residual."""
    for result in results:
        if not result.holds:
            return CheckResult(name, result.status, result.detail, result.residual, result.counterexample,
                               result.method)
    residual = max((r.residual for r in results if r.residual is not None), default=None)
    methods = sorted({r.method for r in results})
    return CheckResult(name, HOLDS, "; ".join(r.detail for r in results), residual, None, ", ".join(methods))


def df_out_integral_form(channel, label):
    """Build the integral form of d_omega f_out from P_out by Gaussian integrals over z.

    d_omega f_out = int dz P_out (z - omega)^2 e^{-(z-omega)^2/2V} / (V^2 int dz P_out e^{...})
    - 1/V - f_out^2, with f_out = int dz P_out (z - omega) e^{...} / (V int dz P_out e^{...}).
    With z = omega + sqrt(V) t the three integrals are moments of P_out against N(t; 0, 1).
    """
    p_out = channel.p_out_at(label).subs(s.z, s.omega + sp.sqrt(s.V) * s.t)

    def moment(power):
        # SymPy's integrate ran for minutes on the moments of the probit channel (t times
        # Phi(omega + sqrt(V) t) against N(t)), so a moment without a closed form from the
        # Gaussian rules stays an integral, which the comparison evaluates by quadrature.
        integrand = p_out * s.t**power * standard_normal_pdf(s.t)
        closed_form = closed_form_over_line(integrand, s.t)
        return sp.Integral(integrand, (s.t, -sp.oo, sp.oo)) if closed_form is None else closed_form

    M0, M1, M2 = moment(0), moment(1), moment(2)
    f_out = M1 / (sp.sqrt(s.V) * M0)
    return M2 / (s.V * M0) - 1 / s.V - f_out**2


def check_df_out_integral_form(model, df_out=None):
    """Check that the integral form of d_omega f_out equals the derivative of the derived f_out."""
    name = "d_omega f_out integral form"
    results = []
    for label in _labels(model):
        claimed = _per_label(model, model.output.df_out, df_out, label)
        integral_form = df_out_integral_form(model.channel, label)
        results.append(compare(name, claimed, integral_form, _output_points(model), f"y = {label}"))
    return _combine(name, results)


def check_output_nishimori(model, df_out=None, q_fractions=(sp.Rational(3, 10), sp.Rational(4, 5))):
    """E[d_omega f_out] = -E[f_out^2] under the teacher's measure, at a few q.

    The teacher's measure: omega = sqrt(q) xi, z ~ N(omega, rho - q), y ~ P_out(y | z), so
    E[g(y, omega)] = E_xi[sum_y Z_out(y, omega, rho - q) g]. The identity holds pointwise in
    omega because Z_out (d_omega f_out + f_out^2) = d_omega^2 Z_out sums to d_omega^2 1 = 0.
    """
    name = "Nishimori: E[d_omega f_out] = -E[f_out^2]"
    reason = _finite_labels_or_reason(model, name)
    if reason:
        return reason
    rho = numeric_rho(model)
    arguments = {s.omega: sp.sqrt(s.q) * s.xi, s.V: rho - s.q}

    def expectation(term_of_label):
        return sp.Add(*(sp.Integral(
            (model.output.Z_out[label] * term_of_label(label)).subs(s.rho, rho).subs(arguments)
            * standard_normal_pdf(s.xi), (s.xi, -sp.oo, sp.oo)) for label in _labels(model)))

    mean_slope = expectation(lambda label: _per_label(model, model.output.df_out, df_out, label))
    mean_square = expectation(lambda label: model.output.f_out[label] ** 2)
    points = [{s.q: fraction * rho} for fraction in q_fractions]
    return compare(name, mean_slope, -mean_square, points, "E[d_omega f_out] against -E[f_out^2]")


def check_prior_variance(model, variance=None):
    """Check that the variance of the tilted prior in GAMP form equals Sigma d_R f_w."""
    name = "variance = Sigma d_R f_w"
    inputs = model.input
    claimed = inputs.variance_gamp if variance is None else variance
    rho = numeric_rho(model)
    points = [{s.Sigma: 2, s.R: 1, s.rho: rho}, {s.Sigma: sp.Rational(1, 3), s.R: -4, s.rho: rho}]
    return compare(name, claimed, s.Sigma * sp.diff(inputs.f_w_gamp, s.R), points, "variance_gamp")


def _bayes_optimal_rhs(free_entropy):
    return free_entropy.bayes_optimal[1]


def check_se_equals_rs(model, free_entropy=None, q_of_qhat=None, qhat_integrand=None):
    """Check that the SE maps equal the RS saddle-point equations after the Nishimori reduction.

    q: the SE map E_xi[Z_w f_w^2] against -2 d_qhat Psi_w at Qhat = 0, mhat = qhat
    (symbolically when both have closed forms). qhat: alpha E_xi[sum_y Z_out f_out^2] against
    -2 alpha d_q Psi_out at Q = rho, m = q, at two values of q (numerically: the step between
    them is a Gaussian integration by parts).
    """
    name = "SE maps = RS saddle-point equations"
    free_entropy = free_entropy or rs_free_entropy(model)
    if q_of_qhat is None or qhat_integrand is None:
        # Without a closed-form Psi_w (point-mass priors) SymPy's search for a closed-form q map
        # fails after 25 s (binary) or runs for minutes (Gauss-Bernoulli), so the SE map is kept as
        # its Gaussian expectation and compared by quadrature.
        closed_form_prior = free_entropy.Psi_w is not free_entropy.Psi_w_integral
        equations = state_evolution_equations(model, derive_q=closed_form_prior)
        if q_of_qhat is None:
            q_of_qhat = equations.q_of_qhat if closed_form_prior else se_q_map_integral(model)
        qhat_integrand = equations.qhat_integrand if qhat_integrand is None else qhat_integrand
    rhs = _bayes_optimal_rhs(free_entropy)
    rho = numeric_rho(model)

    se_q = q_of_qhat
    q_points = [{s.qhat: sp.Rational(7, 3), s.rho: rho}, {s.qhat: sp.Rational(1, 5), s.rho: rho}]
    q_result = compare(name, se_q, rhs[s.q], q_points, "q equation")

    if model.channel.continuous:
        # NOTE: only the q equation is compared for real-valued labels.
        return CheckResult(name, q_result.status,
                           f"{q_result.detail}; the qhat equation is not compared, because the state "
                           f"evolution's qhat map sums over a finite label set and channel {model.channel.name} "
                           "has real-valued labels", q_result.residual, q_result.counterexample,
                           f"{q_result.method}, q equation only")
    integrand = qhat_integrand
    qhat_result = _compare_integrands(name, s.alpha * integrand * standard_normal_pdf(s.xi),
                                      free_entropy.qhat_equation_by_parts, free_entropy.rho,
                                      "qhat equation after integration by parts")
    if not qhat_result.holds:
        se_qhat = s.alpha * sp.Integral(integrand * standard_normal_pdf(s.xi), (s.xi, -sp.oo, sp.oo))
        qhat_points = [{s.q: fraction * rho, s.rho: rho, s.alpha: 2}
                       for fraction in (sp.Rational(1, 4), sp.Rational(4, 5))]
        qhat_result = compare(name, se_qhat, rhs[s.qhat], qhat_points, "qhat equation")
    return _combine(name, [q_result, qhat_result])


def se_q_map_integral(model):
    """Build the SE map q = E_xi[Z_w(sqrt(qhat) xi, qhat) f_w(sqrt(qhat) xi, qhat)^2] as an integral.

    Z_w(gamma, qhat) N(gamma; 0, qhat) is the teacher's law of the field gamma = sqrt(qhat) xi.
    """
    at_field = {s.gamma: sp.sqrt(s.qhat) * s.xi, s.Lambda: s.qhat}
    integrand = (model.input.Z_w * model.input.f_w**2).subs(at_field, simultaneous=True)
    return sp.Integral(integrand * standard_normal_pdf(s.xi), (s.xi, -sp.oo, sp.oo))


def _compare_integrands(name, integrand, integrals, rho, what):
    """Tell whether ``integrals``, a linear combination of integrals over xi, has ``integrand``.

    Equal integrands give equal integrals. The comparison is made at q = rho - V with V > 0,
    where SymPy can take the square roots apart. Returns a failing result when SymPy cannot
    show the difference is 0, so the caller can fall back to a numerical comparison.
    """
    try:
        difference = (integrand_of(integrals) - integrand).subs(s.q, rho - s.V)
        if sp.simplify(difference.rewrite(sp.erfc)) == 0:
            return CheckResult(name, HOLDS, f"{what}: the integrands are equal", 0.0, None, "symbolic")
    except ValueError as error:
        logger.debug("%s: %s", name, error)
    return CheckResult(name, FAILS, f"{what}: SymPy did not reduce the difference to 0", method="symbolic")


def check_nishimori_reduction(model, free_entropy=None):
    """After the Nishimori substitution the six equations close: Q = rho, Qhat = 0, m = q, mhat = qhat.

    The Q and m equations are compared with rho and the q equation at two qhat, the Qhat and
    mhat equations with 0 and the qhat equation at two q.
    """
    name = "Nishimori reduction is consistent"
    free_entropy = free_entropy or rs_free_entropy(model)
    rhs = _bayes_optimal_rhs(free_entropy)
    rho = numeric_rho(model)
    qhat_points = [{s.qhat: sp.Rational(7, 3), s.rho: rho}, {s.qhat: sp.Rational(1, 5), s.rho: rho}]
    q_points = [{s.q: fraction * rho, s.rho: rho, s.alpha: 2} for fraction in (sp.Rational(1, 4), sp.Rational(4, 5))]
    results = [
        compare(name, rhs[Q], free_entropy.rho, qhat_points, "Q equation gives rho"),
        compare(name, rhs[m], rhs[s.q], qhat_points, "m equation equals the q equation"),
        compare(name, rhs[mhat], rhs[s.qhat], q_points, "mhat equation equals the qhat equation"),
        _compare_with_zero(name, rhs[Qhat], q_points, rhs[s.qhat], "Qhat equation gives 0"),
    ]
    return _combine(name, results)


def _compare_with_zero(name, expr, points, scale, what):
    """Check ``expr`` = 0 numerically, relative to the size of ``scale`` at the same point."""
    worst = mpmath.mpf(0)
    with mpmath.workdps(DIGITS + 10):
        for point in points:
            value = numeric_value(expr, point)
            residual = abs(value) / max(1, abs(numeric_value(scale, point)))
            worst = max(worst, residual)
            if residual > RELATIVE_TOLERANCE:
                return CheckResult(name, FAILS, f"{what}: at {_describe(point)} it gives {mpmath.nstr(value, 12)}",
                                   float(residual), dict(point), f"numeric, {DIGITS} digits")
    return CheckResult(name, HOLDS, f"{what}: below {mpmath.nstr(worst, 3)} at {_count(points)}",
                       float(worst), None, f"numeric at {_count(points)}, {DIGITS} digits")


def check_stationarity(model, alpha, q, qhat, free_entropy=None, Phi=None, tolerance=STATIONARITY_TOLERANCE):
    """Phi_RS is stationary at a fixed point (q, qhat) of the state evolution at ``alpha``.

    The point is completed by the Nishimori values Q = rho, Qhat = 0, m = q, mhat = qhat, and
    all six partial derivatives are evaluated at DIGITS digits. Each is divided by the size of
    the two terms that cancel in it, max(1, |coefficient x conjugate|) (for d/dq that is
    max(1, qhat / 2)): at large alpha qhat grows like alpha^2 and a double-precision q leaves an
    absolute gradient that grows with it. The check holds when the largest scaled derivative is
    below ``tolerance``. ``Phi`` replaces the derived Phi_RS (to test a wrong one).
    """
    name = "Phi_RS stationary at the SE fixed point"
    free_entropy = free_entropy or rs_free_entropy(model)
    Phi = free_entropy.Phi if Phi is None else Phi
    rho = numeric_rho(model)
    q_value, qhat_value = sp.Float(str(q), DIGITS), sp.Float(str(qhat), DIGITS)
    point = {s.rho: rho, s.alpha: sp.Float(str(alpha), DIGITS), s.q: q_value, s.qhat: qhat_value}
    point.update({parameter: sp.sympify(value).subs(point)
                  for parameter, value in nishimori_substitution(rho).items()})

    scales = {}
    for parameter, conjugate, coefficient in PAIRS:
        scales[parameter] = max(1, abs(sp.N(coefficient * point[conjugate])))
        scales[conjugate] = max(1, abs(sp.N(coefficient * point[parameter])))
    with mpmath.workdps(DIGITS + 10):
        gradient = {parameter: numeric_value(sp.diff(Phi, parameter), point)
                    for parameter in (Q, Qhat, s.q, s.qhat, m, mhat)}
    scaled = {parameter: abs(value) / mpmath.mpf(str(scales[parameter])) for parameter, value in gradient.items()}
    largest = max(scaled.values())
    listed = ", ".join(f"d/d{parameter} = {mpmath.nstr(value, 3)}" for parameter, value in gradient.items())
    detail = f"at alpha = {alpha}, q = {q}, qhat = {qhat}: {listed}"
    status = HOLDS if largest < tolerance else FAILS
    return CheckResult(name, status, detail, float(largest), None if status == HOLDS else dict(point),
                       f"numeric gradient, {DIGITS} digits, scaled, tolerance {tolerance:g}")


def prior_is_centered_gaussian(prior):
    """Tell whether the prior is a density whose log is -w^2 / (2 v) + constant, v > 0, without point masses."""
    if prior.density is None:
        return False
    # A Gauss-Bernoulli prior has such a density next to a point mass at 0 of weight 1 - rho.
    if any(weight != 0 for _, weight in prior.point_masses or ()):
        return False
    log_density = sp.expand(sp.expand_log(sp.log(prior.density), force=True))
    if not log_density.is_polynomial(s.w) or sp.degree(log_density, s.w) != 2:
        return False
    polynomial = sp.Poly(log_density, s.w)
    return polynomial.coeff_monomial(s.w) == 0 and polynomial.coeff_monomial(s.w**2).is_negative


def check_gaussian_reduction(model, q_of_qhat=None, free_entropy=None):
    """For the prior N(0, rho): q = rho^2 qhat / (1 + rho qhat), which is qhat / (1 + qhat) at rho = 1."""
    name = "Gaussian prior: q = qhat / (1 + qhat)"
    if not prior_is_centered_gaussian(model.prior):
        return not_applicable(name, f"prior {model.prior.name} is not a centered Gaussian "
                                    "(its log-density is not -w^2 / (2 rho) + constant)")
    free_entropy = free_entropy or rs_free_entropy(model)
    rho = model.rho
    claimed = rho**2 * s.qhat / (1 + rho * s.qhat) if q_of_qhat is None else q_of_qhat
    points = [{s.qhat: sp.Rational(7, 3), s.rho: 1}, {s.qhat: sp.Rational(1, 5), s.rho: 1}]
    return compare(name, claimed, _bayes_optimal_rhs(free_entropy)[s.q], points, "q of qhat")


def is_sign_channel(channel):
    """Tell whether the channel is the noiseless sign channel Theta(y z) with labels -1 and +1."""
    return (not channel.continuous and set(channel.labels) == {sp.Integer(-1), sp.Integer(1)}
            and sp.simplify(channel.p_out - sp.Heaviside(s.y * s.z)) == 0)


def qhat_erf_form(rho):
    """The one-dimensional qhat equation of the sign channel, as an integral over xi.

    qhat = (2 / pi) alpha / (rho - q) E_xi[exp(-q xi^2 / (rho - q)) / (1 + erf(sqrt(q) xi /
    sqrt(2 (rho - q))))]; the two labels are folded into one term by xi -> -xi.
    """
    V = rho - s.q
    integrand = sp.exp(-s.q * s.xi**2 / V) / (1 + sp.erf(sp.sqrt(s.q) * s.xi / sp.sqrt(2 * V)))
    return 2 / sp.pi * s.alpha / V * sp.Integral(integrand * standard_normal_pdf(s.xi), (s.xi, -sp.oo, sp.oo))


def check_qhat_erf_form(model, qhat_equation=None, free_entropy=None):
    """The final qhat equation of the sign channel equals -2 alpha d_q Psi_out at the Nishimori point."""
    name = "sign channel: one-dimensional qhat equation"
    if not is_sign_channel(model.channel):
        return not_applicable(name, f"channel {model.channel.name} is not the noiseless sign channel")
    free_entropy = free_entropy or rs_free_entropy(model)
    rho = numeric_rho(model)
    claimed = qhat_erf_form(model.rho) if qhat_equation is None else qhat_equation
    points = [{s.q: fraction * rho, s.rho: rho, s.alpha: 3} for fraction in (sp.Rational(1, 5), sp.Rational(9, 10))]
    return compare(name, claimed, _bayes_optimal_rhs(free_entropy)[s.qhat], points, "qhat of q")


def run_checks(model, fixed_point=None, free_entropy=None):
    """Run every check on ``model`` and return the results in order.

    ``fixed_point`` is (alpha, q, qhat) from a state-evolution solver; without it the
    stationarity check reports that it was not given a point. A check that raises
    NotImplementedError (SymPy found no closed form it needs, or an integral over several
    variables would have to be evaluated) is reported as not applying, with that reason.
    """
    free_entropy = free_entropy or rs_free_entropy(model)
    steps = [
        ("f_out = d_omega log Z_out", lambda: check_f_out_is_log_derivative(model)),
        ("d_omega f_out integral form", lambda: check_df_out_integral_form(model)),
        ("Nishimori: E[d_omega f_out] = -E[f_out^2]", lambda: check_output_nishimori(model)),
        ("variance = Sigma d_R f_w", lambda: check_prior_variance(model)),
        ("SE maps = RS saddle-point equations", lambda: check_se_equals_rs(model, free_entropy)),
        ("Nishimori reduction is consistent", lambda: check_nishimori_reduction(model, free_entropy)),
        ("Phi_RS stationary at the SE fixed point", lambda: _stationarity_or_reason(model, fixed_point, free_entropy)),
        ("Gaussian prior: q = qhat / (1 + qhat)", lambda: check_gaussian_reduction(model, free_entropy=free_entropy)),
        ("sign channel: one-dimensional qhat equation", lambda: check_qhat_erf_form(model, free_entropy=free_entropy)),
    ]
    results = []
    for name, step in steps:
        try:
            results.append(step())
        except NotImplementedError as error:
            results.append(not_applicable(name, f"not carried out: {error}"))
    return results


def _stationarity_or_reason(model, fixed_point, free_entropy):
    if fixed_point is None:
        return not_applicable("Phi_RS stationary at the SE fixed point",
                              "no state-evolution fixed point was given (the NumPy solver needs a closed-form q(qhat))")
    return check_stationarity(model, *fixed_point, free_entropy=free_entropy)
