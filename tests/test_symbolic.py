"""Derived expressions against closed forms written independently of the derivation."""

import mpmath
import pytest
import sympy as sp

from replica_tools.symbolic import Prior, derive_input_functions
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.identities import ndtr, stable_form
from replica_tools.symbolic.replica import rs_free_entropy, state_evolution_equations

LABELS = (-1, 1)


def closed_form_Z_out(label):
    """H(-y omega / sqrt(V)) = erfc(-y omega / sqrt(2 V)) / 2."""
    return sp.erfc(-label * s.omega / sp.sqrt(2 * s.V)) / 2


def as_erfc(expr):
    return expr.rewrite(sp.erfc)


def numerically_equal(left, right, points, digits=40):
    """Compare two SymPy expressions at the given substitutions with mpmath at ``digits``."""
    for point in points:
        a = sp.N(left.subs(point), digits)
        b = sp.N(right.subs(point), digits)
        assert abs(a - b) <= sp.Float(10) ** (5 - digits) * max(1, abs(b)), (point, a, b)


def lambdify_mpmath(expr_of_xi):
    """Compile with ndtr as mpmath.ncdf: erfc(-x) would come back from SymPy as 2 - erfc(x)."""
    return sp.lambdify(s.xi, expr_of_xi, modules=[{"ndtr": mpmath.ncdf}, "mpmath"])


SPOT_POINTS = [
    {s.omega: sp.Rational(3, 10), s.V: sp.Rational(1, 2)},
    {s.omega: -7, s.V: sp.Rational(1, 10)},
    {s.omega: sp.Rational(25, 2), s.V: 3},
]


@pytest.mark.parametrize("label", LABELS)
def test_Z_out_is_H_function(model, label):
    derived = as_erfc(model.output.Z_out[label])
    assert sp.simplify(derived - closed_form_Z_out(label)) == 0


@pytest.mark.parametrize("label", LABELS)
def test_f_out_is_inverse_mills_ratio(model, label):
    # f_out = y N(u) / (sqrt(V) Phi(u)) with u = y omega / sqrt(V), written with erfc.
    u = label * s.omega / sp.sqrt(s.V)
    expected = label * sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi) / (sp.sqrt(s.V) * sp.erfc(-u / sp.sqrt(2)) / 2)
    derived = as_erfc(model.output.f_out[label])
    numerically_equal(derived, expected, SPOT_POINTS)


@pytest.mark.parametrize("label", LABELS)
def test_df_out_matches_closed_form(model, label):
    # d_omega f_out = -(u r + r^2) / V with r = N(u) / Phi(u).
    u = label * s.omega / sp.sqrt(s.V)
    r = sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi) / (sp.erfc(-u / sp.sqrt(2)) / 2)
    expected = -(u * r + r**2) / s.V
    derived = as_erfc(model.output.df_out[label])
    numerically_equal(derived, expected, SPOT_POINTS)


def test_gaussian_prior_gamp_form(model):
    inputs = model.input
    at_unit_rho = {s.rho: 1}
    assert sp.simplify(inputs.f_w_gamp.subs(at_unit_rho) - s.R / (1 + s.Sigma)) == 0
    assert sp.simplify(inputs.variance_gamp.subs(at_unit_rho) - s.Sigma / (1 + s.Sigma)) == 0
    assert sp.simplify(inputs.f_w_gamp - s.R * s.rho / (s.rho + s.Sigma)) == 0


def test_gaussian_prior_replica_form(model):
    inputs = model.input
    expected_Z = sp.exp(s.gamma**2 * s.rho / (2 * (1 + s.Lambda * s.rho))) / sp.sqrt(1 + s.Lambda * s.rho)
    assert sp.simplify(inputs.Z_w - expected_Z) == 0
    assert sp.simplify(inputs.f_w - s.gamma * s.rho / (1 + s.Lambda * s.rho)) == 0
    assert sp.simplify(inputs.variance - s.rho / (1 + s.Lambda * s.rho)) == 0


def test_parametrizations_agree(model):
    # gamma = R / Sigma, Lambda = 1 / Sigma maps the replica tilt onto the GAMP Gaussian.
    inputs = model.input
    change = {s.gamma: s.R / s.Sigma, s.Lambda: 1 / s.Sigma}
    assert sp.simplify(inputs.f_w.subs(change) - inputs.f_w_gamp) == 0
    assert sp.simplify(inputs.variance.subs(change) - inputs.variance_gamp) == 0


def test_variance_is_sigma_times_slope(model):
    # The GAMP variance is Sigma d_R f_w; d_R f_w alone, 1/(1+Sigma) at rho = 1, is not the variance.
    inputs = model.input
    assert sp.simplify(inputs.variance_gamp - s.Sigma * sp.diff(inputs.f_w_gamp, s.R)) == 0
    assert sp.simplify(inputs.variance_gamp.subs(s.rho, 1) - 1 / (1 + s.Sigma)) != 0


def test_binary_prior_gives_tanh():
    prior = Prior(name="binary", point_masses=((-1, sp.Rational(1, 2)), (1, sp.Rational(1, 2))), second_moment=1)
    inputs = derive_input_functions(prior)
    expected_mean = sp.tanh(s.gamma)
    for gamma in (sp.Rational(-3, 2), sp.Rational(1, 3), 4):
        point = {s.gamma: gamma, s.Lambda: sp.Rational(7, 3)}
        assert abs(sp.N(inputs.f_w.subs(point) - expected_mean.subs(point), 30)) < 1e-25
        assert abs(sp.N(inputs.variance.subs(point) - (1 - sp.tanh(gamma) ** 2), 30)) < 1e-25


def test_q_of_qhat_for_gaussian_prior(model):
    equations = state_evolution_equations(model)
    assert sp.simplify(equations.q_of_qhat - s.rho**2 * s.qhat / (1 + s.rho * s.qhat)) == 0


@pytest.mark.parametrize("q_value", ["0.3", "0.99"])
def test_qhat_expectation_matches_erf_form(model, q_value):
    # The erf form (rho = 1): qhat = (2/pi) alpha / (1 - q) E_xi[exp(-q xi^2/(1-q)) / (1 + erf(sqrt(q) xi / sqrt(2(1-q))))].
    # That form folds the two labels into one term by xi -> -xi, so only the expectations agree.
    q = sp.Float(q_value, 40)
    derived = state_evolution_equations(model).qhat_integrand.subs({s.rho: 1, s.q: q})
    mpmath.mp.dps = 30
    q_mp = mpmath.mpf(q_value)

    def erf_form(x):
        # 1 + erf(x) is evaluated as erfc(-x) so that the reference keeps its digits for x << 0.
        argument = -mpmath.sqrt(q_mp) * x / mpmath.sqrt(2 * (1 - q_mp))
        return 2 / mpmath.pi / (1 - q_mp) * mpmath.exp(-q_mp * x**2 / (1 - q_mp)) / mpmath.erfc(argument)

    values = []
    for function in (lambdify_mpmath(derived), erf_form):
        # Beyond |xi| = 40 both integrands are below exp(-800).
        values.append(mpmath.quad(lambda x: function(x) * mpmath.npdf(x), [-40, -1, 0, 1, 40]))
    assert abs(values[0] - values[1]) < mpmath.mpf(10) ** -25 * values[1]


def test_saddle_point_q_equation(model):
    free_entropy = rs_free_entropy(model)
    q_equation, _ = free_entropy.saddle_point_equations()
    assert sp.simplify(q_equation.rhs - s.rho**2 * s.qhat / (1 + s.rho * s.qhat)) == 0


@pytest.mark.parametrize("q_value", ["0.2", "0.7", "0.95"])
def test_saddle_point_qhat_equation(model, q_value):
    # qhat = 2 alpha d Psi_out / dq must equal alpha E[sum_y Z_out f_out^2] (integration by parts).
    free_entropy = rs_free_entropy(model)
    equations = state_evolution_equations(model)
    mpmath.mp.dps = 30
    rho = 1

    def expectation(expr_of_xi):
        function = lambdify_mpmath(expr_of_xi)
        return mpmath.quad(lambda x: function(x) * mpmath.npdf(x), [-40, -3, 0, 3, 40])

    Psi_out_integrands = [integral.args[0] for integral in sp.Add.make_args(free_entropy.Psi_out)]

    def Psi_out(q):
        total = 0
        for integrand in Psi_out_integrands:
            # mpmath.diff raises the working precision and steps by far less than 1e-30.
            at_q = integrand.subs({s.q: sp.Float(q, mpmath.mp.dps), s.rho: rho}) / sp.exp(-s.xi**2 / 2) * sp.sqrt(2 * sp.pi)
            total += expectation(at_q)
        return total

    q = mpmath.mpf(q_value)
    from_free_entropy = 2 * mpmath.diff(Psi_out, q)
    from_state_evolution = expectation(equations.qhat_integrand.subs({s.q: sp.Float(q_value, 30), s.rho: rho}))
    assert abs(from_free_entropy - from_state_evolution) < 1e-15 * abs(from_state_evolution)


@pytest.mark.parametrize("x", ["-40", "-3.5", "0.25", "6", "38"])
def test_stable_form_is_identity(x):
    # Each rewrite is exact: compare the rewritten and original forms at 60 digits.
    X = sp.Symbol("X", real=True)
    expressions = [
        sp.exp(-X**2 / 2) / (1 + sp.erf(X / sp.sqrt(2))),
        sp.log(1 - sp.erfc(X) / 2),
        sp.exp(-X**2) / ndtr(sp.sqrt(2) * X) ** 2 + X * sp.exp(-X**2 / 2) / ndtr(X),
    ]
    for expr in expressions:
        rewritten = stable_form(expr)
        at = {X: sp.Rational(x)}
        original = sp.N(expr.rewrite(sp.erfc).subs(at), 60)
        stable = sp.N(rewritten.rewrite(sp.erfc).subs(at), 60)
        assert abs(original - stable) <= sp.Float(10) ** -50 * abs(original), (expr, rewritten)


# Each integrand as SymPy (in t) and as an mpmath function with its integration range, whose ends
# are strings so that they are read at the test's precision.
RULE_CASES = [
    (s.t**2 * sp.exp(-(s.t - sp.Rational(3, 10)) ** 2 / 2) * sp.Heaviside(s.t - sp.Rational(1, 2)),
     lambda t: t**2 * mpmath.exp(-(t - mpmath.mpf("0.3")) ** 2 / 2), ["0.5", "inf"]),
    (s.t**3 * sp.exp(-s.t**2 + s.t) * sp.Heaviside(sp.Rational(6, 5) - s.t) * sp.Heaviside(s.t + sp.Rational(7, 10)),
     lambda t: t**3 * mpmath.exp(-t**2 + t), ["-0.7", "1.2"]),
    (sp.exp(-s.t**2 / 2) * ndtr(2 * s.t + sp.Rational(2, 5)),
     lambda t: mpmath.exp(-t**2 / 2) * mpmath.ncdf(2 * t + mpmath.mpf("0.4")), ["-inf", "0", "inf"]),
]


@pytest.mark.parametrize("case", range(len(RULE_CASES)))
def test_integration_rules_match_mpmath(case):
    from replica_tools.symbolic.gaussian import closed_form_over_line

    integrand, function, points = RULE_CASES[case]
    derived = closed_form_over_line(integrand, s.t)
    assert derived is not None
    with mpmath.workdps(30):
        reference = mpmath.quad(function, [mpmath.mpf(point) for point in points])
        value = sp.N(derived.rewrite(sp.erfc), 30)
        assert abs(value - sp.Float(str(reference), 30)) < sp.Float(10) ** -25 * abs(value)


def test_rules_leave_other_integrands_to_quadrature():
    from replica_tools.symbolic.gaussian import closed_form_over_line

    logistic = sp.exp(-s.t**2 / 2) / (1 + sp.exp(-s.t))
    assert closed_form_over_line(logistic, s.t) is None
