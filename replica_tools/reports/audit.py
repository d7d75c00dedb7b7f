"""Audit of formulas stated in lecture slides on the perceptron's generalization error.

The project started from a set of lecture slides (in Chinese) on the generalization error of
the perceptron, whose equations were typeset by hand. The slides are not part of this
repository. Each ``Claim`` below transcribes one of their formulas as a SymPy expression (a
claim to check, not code to use) and compares it with what the toolkit derives from the model
declaration: exactly where SymPy can decide, otherwise at several points with mpmath at 30
digits.
"""

from dataclasses import dataclass
from typing import Callable

import mpmath
import sympy as sp

from replica_tools.symbolic import Channel, perceptron
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.channel import derive_partition_function
from replica_tools.symbolic.replica import state_evolution_equations

DIGITS = 30
Delta = sp.Symbol("Delta", positive=True)


@dataclass(frozen=True)
class Verdict:
    """Outcome of one check: whether the claim holds, and the evidence in one sentence."""

    holds: bool
    detail: str


@dataclass(frozen=True)
class Claim:
    """One formula as stated on the slides, with the check against the derivation."""

    name: str
    section: str
    statement: str
    check: Callable[[], Verdict]


def _compare(claimed, derived, points, what):
    """Compare two expressions exactly if SymPy decides, else numerically at ``points``."""
    difference = sp.simplify(claimed - derived)
    if difference == 0:
        return Verdict(True, f"{what}: equal to the derived expression (symbolic simplification)")
    for point in points:
        claimed_value = sp.N(claimed.subs(point), DIGITS)
        derived_value = sp.N(derived.subs(point), DIGITS)
        tolerance = sp.Float(10) ** (5 - DIGITS) * max(1, abs(derived_value))
        if abs(claimed_value - derived_value) > tolerance:
            at = ", ".join(f"{symbol} = {value}" for symbol, value in point.items())
            return Verdict(
                False,
                f"{what}: at {at} the claim gives {sp.N(claimed_value, 8)}, the derivation "
                f"{sp.N(derived_value, 8)}",
            )
    return Verdict(True, f"{what}: equal to the derived expression at {len(points)} points, {DIGITS} digits")


SIGMA_R_POINTS = [{s.Sigma: 2, s.R: 1}, {s.Sigma: sp.Rational(1, 3), s.R: -4}]
GAMMA_LAMBDA_POINTS = [{s.gamma: sp.Rational(3, 2), s.Lambda: sp.Rational(1, 2)}, {s.gamma: -2, s.Lambda: 5}]
OUTPUT_POINTS = [
    {s.omega: sp.Rational(3, 10), s.V: sp.Rational(1, 2), s.y: sp.Rational(7, 10), Delta: sp.Rational(1, 4)},
    {s.omega: -2, s.V: 3, s.y: sp.Rational(-3, 2), Delta: 2},
]


def _reference_inputs():
    return perceptron(rho=1).input


def _check_replica_prior():
    inputs = _reference_inputs()
    claimed = sp.exp(s.gamma**2 / (2 * (s.Lambda + 1))) / sp.sqrt(s.Lambda + 1)
    return _compare(claimed, inputs.Z_w, GAMMA_LAMBDA_POINTS, "Z_w(gamma, Lambda)")


def _check_replica_mean():
    inputs = _reference_inputs()
    mean = _compare(s.gamma / (1 + s.Lambda), inputs.f_w, GAMMA_LAMBDA_POINTS, "f_w")
    slope = _compare(1 / (1 + s.Lambda), sp.diff(inputs.f_w, s.gamma), GAMMA_LAMBDA_POINTS, "d_gamma f_w")
    return Verdict(mean.holds and slope.holds, f"{mean.detail}; {slope.detail}")


def _check_relaxed_bp_mean():
    return _compare(s.R / (1 + s.Sigma), _reference_inputs().f_w_gamp, SIGMA_R_POINTS, "w_hat = f_w(Sigma, R)")


def _check_relaxed_bp_variance():
    verdict = _compare(1 / (1 + s.Sigma), _reference_inputs().variance_gamp, SIGMA_R_POINTS, "v")
    if verdict.holds:
        return verdict
    return Verdict(False, verdict.detail + ". 1/(1+Sigma) is d_R f_w; the variance is Sigma d_R f_w = Sigma/(1+Sigma)")


def _check_gamp_summary_update():
    inputs = _reference_inputs()
    mean = _compare(s.Sigma / (1 + s.R), inputs.f_w_gamp, SIGMA_R_POINTS, "w_hat")
    variance = _compare(1 / (1 + s.R), inputs.variance_gamp, SIGMA_R_POINTS, "v")
    holds = mean.holds and variance.holds
    detail = f"{mean.detail}; {variance.detail}"
    if not holds:
        detail += ". Sigma and R are swapped: the derived update is w_hat = R/(1+Sigma), v = Sigma/(1+Sigma)"
    return Verdict(holds, detail)


def _check_df_out_integral_form():
    # The integral form, evaluated by quadrature for the sign channel with y = +1, against the derived d_omega f_out.
    model = perceptron(rho=1)
    derived = model.output.df_out[1]
    for omega, V in (("0.3", "0.5"), ("-2", "3"), ("1.5", "0.1")):
        omega, V = mpmath.mpf(omega), mpmath.mpf(V)

        def moment(power):
            # P_out(+1|z) = Theta(z) restricts the integral to z > 0.
            return mpmath.quad(lambda z: (z - omega) ** power * mpmath.exp(-(z - omega) ** 2 / (2 * V)), [0, mpmath.inf])

        f_out = moment(1) / (V * moment(0))
        claimed = moment(2) / (V**2 * moment(0)) - 1 / V - f_out**2
        value = sp.N(derived.subs({s.omega: sp.Float(omega, DIGITS), s.V: sp.Float(V, DIGITS)}).rewrite(sp.erfc), DIGITS)
        if abs(claimed - mpmath.mpf(str(value))) > mpmath.mpf(10) ** (8 - DIGITS) * abs(claimed):
            return Verdict(False, f"at omega = {omega}, V = {V}: claim {mpmath.nstr(claimed, 8)}, derivation {value:.8g}")
    return Verdict(True, "d_omega f_out: the integral form equals the derived expression at 3 points (y = +1)")


def _noisy_sign_channel():
    """P_out(y|z) = N(y; sign z, Delta): a sign teacher with Gaussian label noise of variance Delta."""
    def normal(y, mean):
        return sp.exp(-(y - mean) ** 2 / (2 * Delta)) / sp.sqrt(2 * sp.pi * Delta)
    p_out = sp.Heaviside(s.z) * normal(s.y, 1) + sp.Heaviside(-s.z) * normal(s.y, -1)
    return Channel(name="noisy sign", p_out=p_out, labels=()), normal


def _check_noisy_Z_out():
    channel, normal = _noisy_sign_channel()
    derived = derive_partition_function(channel, s.y).rewrite(sp.erfc)
    x = s.omega / sp.sqrt(2 * s.V)
    claimed = normal(s.y, 1) * (1 + sp.erf(x)) + normal(s.y, -1) * (1 - sp.erf(x)) / 2
    verdict = _compare(claimed, derived, OUTPUT_POINTS, "Z_out with label noise")
    if verdict.holds:
        return verdict
    return Verdict(False, verdict.detail + ". The first term lacks the factor 1/2 of Phi(omega/sqrt V) = (1 + erf)/2")


def _check_noisy_f_out():
    channel, normal = _noisy_sign_channel()
    Z_out = derive_partition_function(channel, s.y)
    derived = sp.diff(sp.log(Z_out), s.omega).rewrite(sp.erfc)
    gaussian_in_omega = sp.exp(-s.omega**2 / (2 * s.V)) / sp.sqrt(2 * sp.pi * s.V)
    claimed = (normal(s.y, 1) - normal(s.y, -1)) / Z_out.rewrite(sp.erfc) * gaussian_in_omega
    return _compare(claimed, derived, OUTPUT_POINTS, "f_out with label noise (using the derived Z_out)")


def _expectation(expr_of_xi):
    function = sp.lambdify(s.xi, expr_of_xi, modules=[{"ndtr": mpmath.ncdf}, "mpmath"])
    return mpmath.quad(lambda x: function(x) * mpmath.npdf(x), [-40, -3, 0, 3, 40])


def _check_se_qhat_alpha():
    # Slides: qhat^t = -int dp dz N(p; 0, m) N(z; p, 1 - m) d_p f_out(p, sign z, 1 - m), with no alpha.
    model = perceptron(rho=1)
    m = sp.Rational(2, 5)
    alpha = 3
    claimed = 0
    for label in model.channel.labels:
        # The z integral of N(z; p, 1 - m) over the half line of label y is Z_out(y, p, 1 - m).
        df_out = model.output.df_out[label].subs({s.omega: sp.sqrt(m) * s.xi, s.V: 1 - m})
        Z_out = model.output.Z_out[label].subs({s.omega: sp.sqrt(m) * s.xi, s.V: 1 - m})
        claimed -= _expectation(Z_out * df_out)
    derived = alpha * _expectation(state_evolution_equations(model).qhat_integrand.subs({s.rho: 1, s.q: m}))
    ratio = derived / claimed
    if abs(ratio - 1) < mpmath.mpf(10) ** -20:
        return Verdict(True, "qhat: equal to alpha E[Z_out f_out^2]")
    return Verdict(
        False,
        f"qhat at m = {m}, alpha = {alpha}: the claim gives {mpmath.nstr(claimed, 10)}, the state evolution "
        f"{mpmath.nstr(derived, 10)} (ratio {mpmath.nstr(ratio, 10)}): the factor alpha is missing",
    )


def _check_q_of_qhat():
    equations = state_evolution_equations(perceptron(rho=1))
    return _compare(s.qhat / (1 + s.qhat), equations.q_of_qhat, [{s.qhat: sp.Rational(7, 3)}], "q(qhat)")


def _check_qhat_erf_form():
    equations = state_evolution_equations(perceptron(rho=1))
    for q_value in ("0.2", "0.9"):
        q = mpmath.mpf(q_value)
        derived = _expectation(equations.qhat_integrand.subs({s.rho: 1, s.q: sp.Float(q_value, DIGITS)}))

        def claimed_integrand(x):
            # 1 + erf(a) = erfc(-a), evaluated so that no digits cancel.
            return 2 / mpmath.pi / (1 - q) * mpmath.exp(-q * x**2 / (1 - q)) / mpmath.erfc(
                -mpmath.sqrt(q) * x / mpmath.sqrt(2 * (1 - q))
            )

        claimed = mpmath.quad(lambda x: claimed_integrand(x) * mpmath.npdf(x), [-40, -3, 0, 3, 40])
        if abs(claimed - derived) > mpmath.mpf(10) ** (5 - DIGITS) * derived:
            return Verdict(False, f"at q = {q_value}: claim {mpmath.nstr(claimed, 10)}, derivation {mpmath.nstr(derived, 10)}")
    return Verdict(True, "qhat/alpha: equal to the derived expectation at q = 0.2 and 0.9, 30 digits")


def _check_generalization_error():
    # P(sign u != sign v) for standard Gaussians with correlation c, by quadrature, against arccos(c)/pi.
    for c in ("0.3", "0.9", "-0.5"):
        c = mpmath.mpf(c)
        # v = c u + sqrt(1 - c^2) e: for u > 0 the signs differ when e < -c u / sqrt(1 - c^2).
        probability = 2 * mpmath.quad(lambda u: mpmath.npdf(u) * mpmath.ncdf(-c * u / mpmath.sqrt(1 - c**2)), [0, mpmath.inf])
        if abs(probability - mpmath.acos(c) / mpmath.pi) > mpmath.mpf(10) ** -15:
            return Verdict(False, f"at correlation {c}: P(signs differ) = {probability}")
    return Verdict(
        True,
        "P(sign x.w* != sign x.w_hat) = arccos(c)/pi by quadrature at 3 correlations; with c = m/sqrt(rho q) and m = q "
        "(Nishimori) this is arccos(sqrt(q/rho))/pi",
    )


CLAIMS = (
    Claim("Z_w replica form", "RS calculation: auxiliary functions",
          "Z_w(gamma, Lambda) = exp(gamma^2 / (2 (Lambda + 1))) / sqrt(Lambda + 1)", _check_replica_prior),
    Claim("f_w replica form", "RS calculation: auxiliary functions",
          "f_w = gamma / (1 + Lambda), d_gamma f_w = 1 / (1 + Lambda)", _check_replica_mean),
    Claim("relaxed BP mean", "relaxed BP", "w_hat = f_w(Sigma, R) = R / (1 + Sigma)", _check_relaxed_bp_mean),
    Claim("relaxed BP variance", "relaxed BP", "v = d_R f_w(Sigma, R) = 1 / (1 + Sigma)", _check_relaxed_bp_variance),
    Claim("GAMP summary update", "GAMP algorithm summary",
          "w_hat = Sigma / (1 + R), v = 1 / (1 + R)", _check_gamp_summary_update),
    Claim("d_omega f_out integral form", "relaxed BP",
          "d_omega f_out = int (z-omega)^2 P e^{-(z-omega)^2/2V} / (V^2 int P e^{..}) - 1/V - f_out^2",
          _check_df_out_integral_form),
    Claim("Z_out with label noise", "RS calculation: auxiliary functions",
          "Z_out = N_y(1, Delta) (1 + erf(omega/sqrt(2V))) + N_y(-1, Delta) (1 - erf(omega/sqrt(2V))) / 2",
          _check_noisy_Z_out),
    Claim("f_out with label noise", "RS calculation: auxiliary functions",
          "f_out = (N_y(1, Delta) - N_y(-1, Delta)) N_omega(0, V) / Z_out", _check_noisy_f_out),
    Claim("SE update of qhat", "state evolution",
          "qhat^t = - int dp dz N(p; 0, m) N(z; p, 1 - m) d_p f_out(p, sign z, 1 - m)", _check_se_qhat_alpha),
    Claim("q of qhat", "state evolution: final result", "q = qhat / (1 + qhat)", _check_q_of_qhat),
    Claim("qhat erf form", "state evolution: final result",
          "qhat = (2/pi) alpha / (1 - q) int Dxi exp(-q xi^2/(1-q)) / (1 + erf(sqrt(q) xi / sqrt(2(1-q))))",
          _check_qhat_erf_form),
    Claim("generalization error", "model setting",
          "eps_gen = arccos(sqrt(q / rho)) / pi", _check_generalization_error),
)


def run_audit(claims=CLAIMS):
    """Check every claim and return (claim, verdict) pairs in order.

    The mpmath checks run at ``DIGITS`` digits; the caller's mpmath precision is restored after.
    """
    with mpmath.workdps(DIGITS):
        return [(claim, claim.check()) for claim in claims]
