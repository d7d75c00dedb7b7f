"""Each identity check holds for the reference perceptron and fails when fed a wrong expression.

The wrong expressions are the mistakes a hand derivation makes: a dropped term, a swapped
argument, a missing factor. A check that still reported "holds" for them would check nothing.
"""

import pytest
import sympy as sp

from replica_tools.solvers.state_evolution import solve_fixed_point
from replica_tools.symbolic import Channel, Model, Prior, sign_channel
from replica_tools.symbolic import channel as channel_module
from replica_tools.symbolic import checks
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.free_entropy import Q, rs_free_entropy
from replica_tools.symbolic.models import gaussian_prior
from replica_tools.symbolic.replica import state_evolution_equations


@pytest.fixture(scope="module")
def free_entropy(model):
    return rs_free_entropy(model)


@pytest.fixture(scope="module")
def fixed_point(numpy_model):
    solution = solve_fixed_point(numpy_model, [1.0, 3.0])
    return [(alpha, q, qhat) for alpha, q, qhat in zip(solution.alpha, solution.q, solution.qhat)]


def run(name, model, free_entropy, **wrong):
    """Run the check ``name`` on ``model``, with ``wrong`` replacing the expression under test."""
    functions = {
        "f_out": lambda: checks.check_f_out_is_log_derivative(model, **wrong),
        "df_out": lambda: checks.check_df_out_integral_form(model, **wrong),
        "nishimori": lambda: checks.check_output_nishimori(model, **wrong),
        "variance": lambda: checks.check_prior_variance(model, **wrong),
        "se_rs": lambda: checks.check_se_equals_rs(model, free_entropy, **wrong),
        "gaussian": lambda: checks.check_gaussian_reduction(model, free_entropy=free_entropy, **wrong),
        "erf_form": lambda: checks.check_qhat_erf_form(model, free_entropy=free_entropy, **wrong),
    }
    return functions[name]()


def wrong_expressions(model):
    """One deliberately wrong input per check, each a plausible slip of a hand derivation."""
    output, inputs = model.output, model.input
    labels = model.channel.labels
    integrand = state_evolution_equations(model).qhat_integrand
    return {
        # Z_out'/Z_out with the sign of omega flipped in Z_out.
        "f_out": {"f_out": {label: output.f_out[label].subs(s.omega, -s.omega) for label in labels}},
        # The -1/V term of the integral form dropped.
        "df_out": {"df_out": {label: output.df_out[label] + 1 / s.V for label in labels}},
        # E[d_omega f_out] with the f_out^2 part left out: d_omega f_out replaced by d^2 log Z / d omega^2 + f_out^2.
        "nishimori": {"df_out": {label: output.df_out[label] + output.f_out[label] ** 2 for label in labels}},
        # The slides' relaxed-BP variance, d_R f_w without the factor Sigma.
        "variance": {"variance": sp.diff(inputs.f_w_gamp, s.R)},
        # The SE qhat map without the label y = -1.
        "se_rs": {"qhat_integrand": sp.Add.make_args(sp.expand(integrand))[0]},
        # q = qhat / (1 + qhat)^2, a squared denominator.
        "gaussian": {"q_of_qhat": s.rho**2 * s.qhat / (1 + s.rho * s.qhat) ** 2},
        # The one-dimensional equation without the factor 2 / pi.
        "erf_form": {"qhat_equation": checks.qhat_erf_form(s.rho) * sp.pi / 2},
    }


CHECK_NAMES = ("f_out", "df_out", "nishimori", "variance", "se_rs", "gaussian", "erf_form")


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_check_holds_for_perceptron(model, free_entropy, name):
    result = run(name, model, free_entropy)
    assert result.status == checks.HOLDS, result.detail


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_check_fails_on_wrong_expression(model, free_entropy, name):
    result = run(name, model, free_entropy, **wrong_expressions(model)[name])
    assert result.status == checks.FAILS, result.detail
    assert result.residual is not None and result.residual > 1e-6
    assert result.counterexample, result.detail


def test_stationarity_at_fixed_point(model, free_entropy, fixed_point):
    for alpha, q, qhat in fixed_point:
        result = checks.check_stationarity(model, alpha, q, qhat, free_entropy=free_entropy)
        assert result.holds, result.detail
        assert result.residual < 1e-10


def test_stationarity_fails_off_fixed_point(model, free_entropy, fixed_point):
    alpha, q, qhat = fixed_point[0]
    result = checks.check_stationarity(model, alpha, q, qhat * (1 + 1e-6), free_entropy=free_entropy)
    assert result.status == checks.FAILS
    assert result.residual > 1e-8


def test_stationarity_fails_for_wrong_phi(model, free_entropy, fixed_point):
    # Phi_RS with q qhat instead of q qhat / 2: its q and qhat derivatives no longer vanish.
    alpha, q, qhat = fixed_point[0]
    wrong = free_entropy.Phi + s.q * s.qhat / 2
    result = checks.check_stationarity(model, alpha, q, qhat, free_entropy=free_entropy, Phi=wrong)
    assert result.status == checks.FAILS
    assert result.counterexample[Q] == 1


def test_nishimori_reduction_consistent(model, free_entropy):
    result = checks.check_nishimori_reduction(model, free_entropy)
    assert result.holds, result.detail


def test_nishimori_reduction_fails_for_mismatched_teacher(model):
    # A teacher of variance 2 for a student that assumes 1: the Q equation no longer gives rho.
    student = Model(sign_channel(), gaussian_prior(1))
    teacher = Model(sign_channel(), gaussian_prior(2))
    result = checks.check_nishimori_reduction(student, rs_free_entropy(student, teacher))
    assert result.status == checks.FAILS


BINARY = Prior(name="binary", point_masses=((-1, sp.Rational(1, 2)), (1, sp.Rational(1, 2))), second_moment=1)
FLIP = Channel(name="flip", p_out=sp.Rational(9, 10) * sp.Heaviside(s.y * s.z) + sp.Rational(1, 10) * sp.Heaviside(-s.y * s.z),
               labels=(sp.Integer(-1), sp.Integer(1)))
REAL_LABELS = Channel(name="gaussian noise", p_out=sp.exp(-(s.y - s.z) ** 2 / 2) / sp.sqrt(2 * sp.pi),
                      labels=channel_module.REAL_LABELS)


def test_gaussian_reduction_not_for_binary_prior():
    result = checks.check_gaussian_reduction(Model(sign_channel(), BINARY))
    assert result.status == checks.NOT_APPLICABLE
    assert "not a centered Gaussian" in result.detail


def test_erf_form_not_for_flip_channel():
    result = checks.check_qhat_erf_form(Model(FLIP, gaussian_prior(1)))
    assert result.status == checks.NOT_APPLICABLE
    assert "not the noiseless sign channel" in result.detail


def test_output_nishimori_not_for_real_labels():
    result = checks.check_output_nishimori(Model(REAL_LABELS, gaussian_prior(1)))

    assert result.status == checks.NOT_APPLICABLE
    assert "real-valued labels" in result.detail


def test_output_functions_checked_at_real_label():
    model = Model(REAL_LABELS, gaussian_prior(1))
    for check in (checks.check_f_out_is_log_derivative, checks.check_df_out_integral_form):
        result = check(model)
        assert result.holds, result.detail


def test_output_identities_hold_for_flip_channel():
    model = Model(FLIP, gaussian_prior(1))
    for check in (checks.check_f_out_is_log_derivative, checks.check_df_out_integral_form, checks.check_output_nishimori):
        result = check(model)
        assert result.holds, result.detail


def test_se_equals_rs_for_binary_prior(model):
    # No closed form of q(qhat): the q equations are compared by quadrature. The SE maps are
    # written by hand: q = E_xi[tanh(qhat + sqrt(qhat) xi)^2] for the prior (+1 and -1 alike by
    # symmetry), and the sign channel's qhat map at rho = 1.
    binary = Model(sign_channel(), BINARY)
    q_of_qhat = sp.Integral(sp.tanh(s.qhat + sp.sqrt(s.qhat) * s.xi) ** 2 * sp.exp(-s.xi**2 / 2) / sp.sqrt(2 * sp.pi),
                            (s.xi, -sp.oo, sp.oo))
    qhat_integrand = state_evolution_equations(model).qhat_integrand.subs(s.rho, 1)
    result = checks.check_se_equals_rs(binary, q_of_qhat=q_of_qhat, qhat_integrand=qhat_integrand)
    assert result.holds, result.detail
    assert "numeric" in result.method
