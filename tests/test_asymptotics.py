"""Tests of the large-alpha expansion, its constants to many digits, and the asymptotics command.

Expected values come from formulas written out here: the hand derivation (q = 1 - delta,
xi = sqrt(delta / q) t), the lecture slides' closed forms, closed-form Gaussian integrals, and
an mpmath tanh-sinh quadrature of k in a folded form on the half line,
k = sqrt(2/pi) int_0^oo phi(s)^2 / (Phi(s) Phi(-s)) ds, which differs from the library's
trapezoidal rule on the whole line in both the formula and the method.
"""

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import flint
import mpmath
import pytest
import sympy as sp
from flint import acb, arb

from replica_tools.cli.main import main
from replica_tools.numerics.certified import BallIntegrand, compile_acb
from replica_tools.numerics.compiled import compile_mpmath
from replica_tools.numerics.precision import digits_that_agree, trapezoid_moments, trapezoid_rule
from replica_tools.solvers.asymptotics import (
    certified_constants,
    check_expansion,
    large_alpha_constants,
    perceptron_expansion,
    reference_model,
    tail_bounds,
    weight_constant,
)
from replica_tools.solvers.fixed_point_mp import solve_fixed_point_mp
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.asymptotics import (
    delta,
    fold_labels,
    k,
    leading_order_overlap,
    moment_symbol,
    rescaled_qhat_integrand,
)
from replica_tools.symbolic.identities import ndtr, to_ndtr
from replica_tools.symbolic.replica import state_evolution_equations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DERIVATION_SCRIPT = Path(__file__).resolve().parent.parent / "derivations" / "perceptron_large_alpha.py"


@pytest.fixture(scope="module")
def expansion():
    return perceptron_expansion(2)


@pytest.fixture(scope="module")
def constants_60():
    return large_alpha_constants(60)


def k_by_folded_quadrature(dps):
    """k = sqrt(2/pi) int_0^oo phi^2 / (Phi(s) Phi(-s)) ds by tanh-sinh, since 1/Phi(s) + 1/Phi(-s) = 1/(Phi(s) Phi(-s))."""
    with mpmath.workdps(dps):
        def integrand(x):
            return mpmath.npdf(x) ** 2 / (mpmath.ncdf(x) * mpmath.ncdf(-x))
        return mpmath.sqrt(2 / mpmath.pi) * mpmath.quad(integrand, [0, 1, 2, 4, 8, 16, mpmath.inf])


# ---------------------------------------------------------------------------------------------
# Symbolic limit


def test_rescaled_integrand_matches_hand_derivation(model):
    rescaled = fold_labels(rescaled_qhat_integrand(state_evolution_equations(model)))
    q, t = s.q, s.t
    hand = (delta ** sp.Rational(-1, 2) * q ** sp.Rational(-1, 2) * (2 / sp.pi) / sp.sqrt(2 * sp.pi)
            * sp.exp(-t**2 - delta * t**2 / (2 * q)) / (1 + sp.erf(t / sp.sqrt(2))))
    assert sp.simplify(to_ndtr(rescaled - hand)) == 0


def test_weight_is_phi_squared_over_Phi(expansion):
    t = s.t
    phi = sp.exp(-t**2 / 2) / sp.sqrt(2 * sp.pi)
    assert sp.simplify(expansion.weight - sp.sqrt(2 / sp.pi) * phi**2 / ndtr(t)) == 0


def test_leading_qhat_coefficient_is_k(expansion):
    assert expansion.qhat_coefficients[0] == k / sp.sqrt(s.rho)


def test_q_b_closed_form_matches_slides(expansion):
    alpha = s.alpha
    q_b = leading_order_overlap(reference_model(), expansion).subs(s.rho, 1)
    slides = (alpha * k * sp.sqrt(alpha**2 * k**2 + 4) - alpha**2 * k**2) / 2
    assert sp.simplify(q_b - slides) == 0


def test_bayes_constant_is_one_over_k_pi(expansion):
    assert expansion.bayes.constant == 1 / (k * sp.pi)


def test_gibbs_constant_is_sqrt2_times_bayes(expansion):
    assert sp.simplify(expansion.gibbs.constant / expansion.bayes.constant) == sp.sqrt(2)


def test_correction_powers_are_even(expansion):
    assert [power for power, _ in expansion.bayes.corrections] == [2, 4]
    assert [power for power, _ in expansion.gibbs.corrections] == [2, 4]


def test_first_correction_matches_hand_derivation(expansion):
    # By hand: qhat = alpha delta^(-1/2) (k + delta (k - m_1)/2), 1/delta - 1 = qhat,
    # and alpha eps = (u + u^3/6) / (pi epsilon) with u = sqrt(delta).
    m_1 = moment_symbol(1)
    bayes = -sp.Rational(4, 3) / k**2 + m_1 / (2 * k**3)
    gibbs = -sp.Rational(11, 12) / k**2 - (k - m_1) / (2 * k**3)
    assert sp.simplify(expansion.bayes.first_correction[1] - bayes) == 0
    assert sp.simplify(expansion.gibbs.first_correction[1] - gibbs) == 0


def test_expansion_independent_of_rho(expansion):
    terms = [expansion.bayes.constant, expansion.gibbs.constant]
    terms += [c for _, c in expansion.bayes.corrections + expansion.gibbs.corrections]
    for term in terms:
        assert s.rho not in term.free_symbols


def test_expansion_rejects_negative_order():
    with pytest.raises(ValueError, match="corrections = -1"):
        perceptron_expansion(-1)


# ---------------------------------------------------------------------------------------------
# Numerics: agreement of digits, trapezoidal rule, ball evaluation


def test_digits_that_agree_equal_values():
    text, digits = digits_that_agree(mpmath.mpf("0.125"), mpmath.mpf("0.125"), 3)
    assert digits == 3
    assert text == "0.125"


def test_digits_that_agree_stops_at_difference():
    text, digits = digits_that_agree(mpmath.mpf("0.123456"), mpmath.mpf("0.123461"), 10)
    assert digits == 5
    assert text == "0.12346"


def test_digits_that_agree_no_common_digit():
    text, digits = digits_that_agree(mpmath.mpf("0.3"), mpmath.mpf("0.7"), 10)
    assert digits == 0
    assert text == ""


def test_trapezoid_gaussian_moments_100_digits():
    # int t^(2j) e^(-t^2) dt = Gamma(j + 1/2), a closed form independent of the rule.
    bits = 350
    with mpmath.workprec(bits + 16):
        rule = trapezoid_rule(bits, scale=3, strip=0.7, lower=-20, upper=20, growth=5)
        values = trapezoid_moments(lambda t: mpmath.exp(-t * t), [0, 2, 4], bits, rule)
        for j, value in enumerate(values):
            assert abs(value - mpmath.gamma(j + mpmath.mpf(1) / 2)) < mpmath.mpf(10) ** -100


def test_acb_weight_contains_mpmath_value(expansion):
    # The integral needs the weight to an absolute accuracy. Arb's U(1/2, 1/2, z) on a ball
    # amplifies the input radius by about e^z, which the factor e^(-z) of the weight cancels,
    # so the scaled form is accurate in absolute but not in relative terms in the far tail.
    plain = compile_acb(expansion.weight, s.t)
    scaled = compile_acb(expansion.scaled_weight, s.t)
    weight = compile_mpmath(expansion.weight, (s.t,))
    tolerance = arb("1e-55")
    with flint.ctx.workprec(200), mpmath.workdps(60):
        for point in ("-30.5", "-12.25", "-1", "0", "2.5", "9"):
            expected = arb(mpmath.nstr(weight(mpmath.mpf(point)), 58)) + arb(0, tolerance)
            for form in (plain, scaled):
                value = form(acb(arb(point))).real
                assert value.overlaps(expected)
                assert value.rad() < tolerance


def test_ball_integrand_picks_scaled_form_in_left_tail(expansion):
    integrand = BallIntegrand(expansion.weight, expansion.scaled_weight, s.t)
    with flint.ctx.workprec(200):
        wide_ball = acb(arb(-15, 0.5), arb(0, 0.5))
        value = integrand(wide_ball)
    assert value.real.is_finite()
    assert value.real.upper() < arb("1e-40")


@pytest.mark.parametrize("j", [0, 1, 2])
def test_tail_bounds_exceed_tails(expansion, j):
    c = weight_constant(expansion.weight)
    weight = compile_mpmath(expansion.weight, (s.t,))
    with mpmath.workdps(30):
        left_bound, right_bound = tail_bounds(c, -3, 2, j)
        left = mpmath.quad(lambda t: t ** (2 * j) * weight(t), [-mpmath.inf, -6, -3])
        right = mpmath.quad(lambda t: t ** (2 * j) * weight(t), [2, 6, mpmath.inf])
        assert left <= left_bound
        assert right <= right_bound
        assert left_bound < 10 * left


# ---------------------------------------------------------------------------------------------
# Constants to many digits


def test_bayes_constant_matches_0_4417(constants_60):
    assert constants_60.C_bayes.text.startswith("0.4417")
    assert abs(constants_60.C_bayes.value - mpmath.mpf("0.4417")) < 5e-5


def test_bayes_constant_matches_folded_quadrature(constants_60):
    with mpmath.workdps(80):
        expected = 1 / (mpmath.pi * k_by_folded_quadrature(80))
        assert constants_60.C_bayes.digits == 60
        assert abs(constants_60.C_bayes.value - expected) < mpmath.mpf(10) ** -58


def test_gibbs_constant_matches_folded_quadrature(constants_60):
    with mpmath.workdps(80):
        expected = mpmath.sqrt(2) / (mpmath.pi * k_by_folded_quadrature(80))
        assert abs(constants_60.C_gibbs.value - expected) < mpmath.mpf(10) ** -58


def test_printed_digits_are_correct(constants_60):
    with mpmath.workdps(80):
        expected = mpmath.nstr(1 / (mpmath.pi * k_by_folded_quadrature(80)), 60, strip_zeros=False)
    assert constants_60.C_bayes.text == expected


def test_constants_reject_zero_digits():
    with pytest.raises(ValueError, match="digits = 0"):
        large_alpha_constants(0)


@pytest.mark.slow
def test_constants_200_digits_all_agree():
    constants = large_alpha_constants(200)
    assert constants.k.digits == 200
    assert constants.C_bayes.digits == 200
    assert all(term.coefficient.digits == 200 for term in constants.bayes_corrections)


def test_certified_ball_contains_mpmath_value():
    certified = certified_constants(100)
    constants = large_alpha_constants(110)
    with flint.ctx.workprec(500), mpmath.workdps(120):
        target = arb(10) ** -100
        for ball, value in ((certified.k, constants.k.value), (certified.C_bayes, constants.C_bayes.value),
                            (certified.C_gibbs, constants.C_gibbs.value)):
            assert ball.contains(arb(mpmath.nstr(value, 115)))
            assert ball.rad() < target


# ---------------------------------------------------------------------------------------------
# Against the full fixed point


@pytest.mark.slow
def test_corrections_predict_residual_at_alpha_1000(constants_60):
    with mpmath.workdps(50):
        point = solve_fixed_point_mp(reference_model(), 1000, dps=50)
        constant = constants_60.C_bayes.value
        measured = point.alpha * point.eps_bayes - constant
        predicted = constants_60.predicted_alpha_eps(1000) - constant
        assert abs(measured / predicted - 1) < mpmath.mpf(10) ** -8


@pytest.mark.slow
def test_gibbs_corrections_predict_residual_at_alpha_1000(constants_60):
    with mpmath.workdps(50):
        point = solve_fixed_point_mp(reference_model(), 1000, dps=50)
        constant = constants_60.C_gibbs.value
        measured = point.alpha * point.eps_gibbs - constant
        predicted = constants_60.predicted_alpha_eps(1000, error="gibbs") - constant
        assert abs(measured / predicted - 1) < mpmath.mpf(10) ** -8


@pytest.mark.slow
@pytest.mark.parametrize("corrections, exponent", [(1, 4), (2, 6)])
def test_residual_decays_like_next_order(corrections, exponent):
    constants = large_alpha_constants(60, corrections=corrections)
    check = check_expansion(constants, alphas=(100, 1000, 10000), dps=50)
    assert abs(check.decay_exponent - exponent) < 0.01


# ---------------------------------------------------------------------------------------------
# Command line


def run_main(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    return status, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("value", ["4", "10001", "abc", "2.5", "-7", "5_000", ""])
def test_cli_rejects_bad_digits(value):
    status, stdout, stderr = run_main(["asymptotics", f"--digits={value}"])
    assert status == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert "--digits" in stderr
    assert f"'{value}'" in stderr
    assert "[5, 10000]" in stderr


@pytest.mark.parametrize("argv", [["--digits", "5000"], ["--digits", "1500", "--certified"]])
def test_cli_asks_force_for_long_runs(argv):
    status, stdout, stderr = run_main(["asymptotics", *argv])
    assert status == 2
    assert stderr.count("\n") == 1
    assert "--force" in stderr
    assert "estimated" in stderr


def test_cli_rejects_plot_in_missing_folder(tmp_path):
    target = tmp_path / "missing" / "plot.png"
    status, _, stderr = run_main(["asymptotics", "--plot", str(target)])
    assert status == 2
    assert stderr.count("\n") == 1
    assert "--plot" in stderr
    assert "does not exist" in stderr


@pytest.mark.parametrize("case", ["empty", "under_file", "proc", "long_name"])
def test_cli_rejects_unwritable_plot(tmp_path, case):
    (tmp_path / "regular").write_text("")
    targets = {
        "empty": ("", "expected a file path"),
        "under_file": (str(tmp_path / "regular" / "plot.png"), "is not a folder"),
        "proc": ("/proc/plot.png", "cannot create a file"),
        "long_name": (str(tmp_path / ("a" * 260 + ".png")), "longer than"),
    }
    target, message = targets[case]
    status, stdout, stderr = run_main(["asymptotics", "--digits", "5", "--plot", target])
    assert status == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert message in stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["regular"]


def test_cli_rejects_plot_onto_folder(tmp_path):
    status, _, stderr = run_main(["asymptotics", "--plot", str(tmp_path)])
    assert status == 2
    assert stderr.count("\n") == 1
    assert "is a folder" in stderr


@pytest.mark.slow
def test_cli_json_and_plot(tmp_path):
    target = tmp_path / "asymptotics.png"
    status, stdout, stderr = run_main(["asymptotics", "--digits", "20", "--json", "--certified",
                                       "--plot", str(target)])
    assert status == 0
    result = json.loads(stdout)
    for key in ("k", "C_bayes", "C_gibbs", "correction", "digits", "table"):
        assert key in result
    assert result["digits"] == 20
    assert result["C_bayes"].startswith("0.4417000435")
    assert result["correction"]["power"] == 2
    assert result["correction"]["coefficient"].startswith("-1.391")
    assert len(result["table"]["rows"]) == 7
    assert abs(result["table"]["decay_exponent"] - 6) < 0.01
    assert result["certified"]["C_bayes"].startswith("[0.4417000435")
    assert target.read_bytes().startswith(PNG_SIGNATURE)
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.slow
def test_derivation_script_passes():
    completed = subprocess.run([sys.executable, str(DERIVATION_SCRIPT)], capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "All steps passed" in completed.stdout
