"""Audit of the lecture slides' equations against the toolkit's derivation.

Run it as ``python derivations/slides_audit.py [--write docs/slides-audit.md]``; ``replica-tools
verify`` runs the same claims. Each ``Claim`` transcribes one equation of the slides as it is
written there (the extracted text and the reading are in ``slides_transcription.md``, under the
same label) and compares it with what the toolkit derives from the model declaration. The
transcriptions are claims to check, and several are wrong because they keep the slides' typos.
"""

import argparse
import sys
from functools import lru_cache
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

from replica_tools.reports.audit import (Claim, Verdict, all_hold, compare, run_audit, to_markdown, verdict_counts,
                                         verdict_line)
from replica_tools.symbolic import Channel, perceptron
from replica_tools.symbolic import checks
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.channel import derive_partition_function
from replica_tools.symbolic.free_entropy import Q, Qhat, m, mhat, psi_w_integral, rs_free_entropy
from replica_tools.symbolic.gaussian import integrate_over_line, standard_normal_pdf

Delta = sp.Symbol("Delta", positive=True)
A, N, X = (sp.Symbol(name, positive=True) for name in ("A", "N", "X"))
B = sp.Symbol("B", real=True)

SIGMA_R_POINTS = [{s.Sigma: 2, s.R: 1}, {s.Sigma: sp.Rational(1, 3), s.R: -4}]
GAMMA_LAMBDA_POINTS = [{s.gamma: sp.Rational(3, 2), s.Lambda: sp.Rational(1, 2)}, {s.gamma: -2, s.Lambda: 5}]
OUTPUT_POINTS = [{s.omega: sp.Rational(3, 10), s.V: sp.Rational(1, 2)}, {s.omega: -2, s.V: 3}]
NOISY_POINTS = [
    {s.omega: sp.Rational(3, 10), s.V: sp.Rational(1, 2), s.y: sp.Rational(7, 10), Delta: sp.Rational(1, 4)},
    {s.omega: -2, s.V: 3, s.y: sp.Rational(-3, 2), Delta: 2},
]
Q_POINTS = [{s.q: sp.Rational(3, 10), s.alpha: 2}, {s.q: sp.Rational(9, 10), s.alpha: 2}]
QHAT_POINTS = [{s.qhat: sp.Rational(7, 3)}, {s.qhat: sp.Rational(1, 5)}]
# A point off the Nishimori line, where the six order parameters are unrelated.
GENERAL_POINT = {Q: sp.Rational(9, 10), Qhat: sp.Rational(1, 5), s.q: sp.Rational(2, 5), s.qhat: sp.Rational(3, 2),
                 m: sp.Rational(3, 10), mhat: sp.Rational(6, 5), s.alpha: sp.Rational(7, 4)}


@lru_cache(maxsize=1)
def model():
    """Return the reference perceptron at rho = 1, as on the slides."""
    return perceptron(rho=1)


@lru_cache(maxsize=1)
def free_entropy():
    return rs_free_entropy(model())


def bayes_optimal(parameter):
    """Return the right-hand side of a saddle-point equation after the Nishimori reduction."""
    return free_entropy().bayes_optimal[1][parameter]


def gaussian_mean(integrand, var=s.xi):
    return sp.Integral(integrand * standard_normal_pdf(var), (var, -sp.oo, sp.oo))


def normal(x, mean, variance):
    return sp.exp(-(x - mean) ** 2 / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


# Slide 2: model setting.

def check_labels():
    # y = sign(z) is P_out(y | z) = Theta(y z): one label has probability 1 for each z != 0.
    p_out = model().channel.p_out
    verdicts = []
    for z in (sp.Rational(7, 10), sp.Rational(-3, 2)):
        total = sum(p_out.subs({s.y: label, s.z: z}) for label in model().channel.labels)
        verdicts.append(Verdict(total == 1 and p_out.subs({s.y: sp.sign(z), s.z: z}) == 1,
                                f"at z = {z}: P_out(sign z | z) = 1 and sum_y P_out(y | z) = {total}"))
    return all_hold(verdicts)


def check_reparametrization():
    # z_hat = sqrt(s_hat) x1 and z must have Var(z) = s_star and Cov(z, z_hat) = s_m.
    s_hat, s_m, s_star = (sp.Symbol(name, positive=True) for name in ("sigma_what", "sigma_mixed", "sigma_wstar"))
    first, second = s_m / sp.sqrt(s_hat), sp.sqrt(s_star**2 - s_m / s_hat)
    covariance = first * sp.sqrt(s_hat)
    variance = first**2 + second**2
    corrected = "z = sigma_{w*w_hat} / sqrt(sigma_w_hat) x1 + sqrt(sigma_w* - sigma_{w*w_hat}^2 / sigma_w_hat) x2"
    point = {s_hat: sp.Rational(1, 2), s_m: sp.Rational(1, 3), s_star: 2}
    return all_hold([
        compare(covariance, s_m, [point], "Cov(z, z_hat)"),
        compare(variance, s_star, [point], "Var(z) against the teacher variance sigma_w*", corrected),
    ])


def check_generalization_error():
    # P(sign u != sign v) for standard Gaussians with correlation c, by quadrature, against arccos(c) / pi.
    for c in ("0.3", "0.9", "-0.5"):
        c = mpmath.mpf(c)
        # v = c u + sqrt(1 - c^2) e: for u > 0 the signs differ when e < -c u / sqrt(1 - c^2).
        probability = 2 * mpmath.quad(lambda u: mpmath.npdf(u) * mpmath.ncdf(-c * u / mpmath.sqrt(1 - c**2)), [0, mpmath.inf])
        if abs(probability - mpmath.acos(c) / mpmath.pi) > mpmath.mpf(10) ** -20:
            return Verdict(False, f"at correlation {c}: P(signs differ) = {probability}")
    return Verdict(True, "P(sign x.w* != sign x.w_hat) = arccos(c)/pi by quadrature at 3 correlations; with "
                         "c = m/sqrt(rho q) and m = q (Nishimori) this is arccos(sqrt(q/rho))/pi")


# Slide 3: relaxed BP.

def check_gaussian_message():
    x = sp.Symbol("x", real=True)
    message = sp.sqrt(A / (2 * sp.pi * N)) * sp.exp(-x**2 * A / (2 * N) + B * x / sp.sqrt(N) - B**2 / (2 * A))
    return compare(integrate_over_line(message, x), sp.Integer(1), [{A: 2, N: 3, B: 1}], "int dx m(x)")


def check_message_coefficients():
    # log Z_out(y, omega + eps, V) = log Z_out + eps f_out + eps^2 d_omega f_out / 2 + O(eps^3), with
    # eps = X w / sqrt(n): the coefficient of w / sqrt(n) is B, that of -w^2 / (2n) is A.
    verdicts = []
    for label in model().channel.labels:
        log_Z = sp.log(model().output.Z_out[label])
        B_claim = X * model().output.f_out[label]
        A_claim = -X**2 * model().output.df_out[label]
        points = [{**point, X: sp.Rational(3, 2)} for point in OUTPUT_POINTS]
        verdicts.append(compare(B_claim, X * sp.diff(log_Z, s.omega), points, f"B at y = {label}"))
        verdicts.append(compare(A_claim, -X**2 * sp.diff(log_Z, s.omega, 2), points, f"A at y = {label}"))
    return all_hold(verdicts)


def output_moment(label, power):
    """int dz P_out(y | z) (z - omega)^power exp(-(z - omega)^2 / 2V), by the toolkit's Gaussian integral."""
    z = s.omega + sp.sqrt(s.V) * s.t
    integrand = model().channel.p_out_at(label).subs(s.z, z) * (sp.sqrt(s.V) * s.t) ** power
    return sp.sqrt(s.V) * integrate_over_line(integrand * sp.exp(-s.t**2 / 2), s.t)


def check_f_out_integral_form():
    verdicts = []
    for label in model().channel.labels:
        claimed = output_moment(label, 1) / (s.V * output_moment(label, 0))
        verdicts.append(compare(claimed, model().output.f_out[label], OUTPUT_POINTS, f"f_out at y = {label}"))
    return all_hold(verdicts)


def check_df_out_integral_form():
    verdicts = []
    for label in model().channel.labels:
        f_out = output_moment(label, 1) / (s.V * output_moment(label, 0))
        claimed = output_moment(label, 2) / (s.V**2 * output_moment(label, 0)) - 1 / s.V - f_out**2
        verdicts.append(compare(claimed, model().output.df_out[label], OUTPUT_POINTS, f"d_omega f_out at y = {label}"))
    return all_hold(verdicts)


def check_sigma_and_R():
    # The product of the messages exp(B_mu w - A_mu w^2 / 2) over mu is proportional to N(w; R, Sigma).
    A1, A2 = sp.Rational(3, 2), sp.Rational(1, 4)
    B1, B2 = sp.Rational(-1, 3), 2
    w = s.w
    product = sp.exp(B1 * w - A1 * w**2 / 2 + B2 * w - A2 * w**2 / 2)
    mass = integrate_over_line(product, w)
    mean = integrate_over_line(w * product, w) / mass
    variance = integrate_over_line(w**2 * product, w) / mass - mean**2
    return all_hold([
        compare(1 / (A1 + A2), variance, [{}], "Sigma = 1 / sum A against the variance of the product"),
        compare((B1 + B2) / (A1 + A2), mean, [{}], "R = sum B / sum A against the mean of the product"),
    ])


def check_f_w_integral_form():
    # The integral form evaluated for P_0 = N(0, 1), against the derived f_w(Sigma, R).
    tilt = sp.exp(-(s.w - s.R) ** 2 / (2 * s.Sigma)) * sp.exp(-s.w**2 / 2) / sp.sqrt(2 * sp.pi)
    numerator = sp.Integral(s.w * tilt, (s.w, -sp.oo, sp.oo))
    denominator = sp.Integral(tilt, (s.w, -sp.oo, sp.oo))
    return compare(numerator / denominator, model().input.f_w_gamp, SIGMA_R_POINTS, "f_w by quadrature")


def check_relaxed_bp_mean():
    return compare(s.R / (1 + s.Sigma), model().input.f_w_gamp, SIGMA_R_POINTS, "w_hat = f_w(Sigma, R)")


def check_relaxed_bp_variance():
    inputs = model().input
    slope = compare(1 / (1 + s.Sigma), sp.diff(inputs.f_w_gamp, s.R), SIGMA_R_POINTS, "d_R f_w = 1/(1+Sigma)")
    variance = compare(1 / (1 + s.Sigma), inputs.variance_gamp, SIGMA_R_POINTS,
                       "v = 1/(1+Sigma) against the variance of the tilted prior",
                       "v = Sigma d_R f_w(Sigma, R) = Sigma / (1 + Sigma)")
    return all_hold([slope, variance])


# Slide 4: the GAMP summary, against the toolkit's GAMP step.

@lru_cache(maxsize=1)
def gamp_run():
    """Two GAMP steps on a small instance (n = 40, alpha = 2, seed 0), from the prior."""
    from replica_tools.numerics.compiled import NumpyModel
    from replica_tools.solvers.gamp import GampState, InputProducts, gamp_step, make_instance

    numpy_model = NumpyModel(model(), 1.0)
    instance = make_instance(2.0, 40, 1.0, 0)
    X_squared = instance.X**2
    products = InputProducts(instance.X, "per_component")
    start = GampState(w_hat=np.zeros(40), v=np.ones(40), g=np.zeros(len(instance.y)))
    first = gamp_step(numpy_model, products, instance.y, start, 1)
    second = gamp_step(numpy_model, products, instance.y, first, 2)
    return numpy_model, instance, X_squared, start, first, second


def slide_gamp_step(onsager_from_previous_v):
    """Compute the slides' second GAMP step from the toolkit's first: (f_out, w_hat, v)."""
    numpy_model, instance, X_squared, start, first, _ = gamp_run()
    n = instance.X.shape[1]
    V_next = X_squared @ first.v / n
    V_onsager = X_squared @ start.v / n if onsager_from_previous_v else V_next
    omega = instance.X @ first.w_hat / np.sqrt(n) - V_onsager * first.g
    g = numpy_model.f_out(instance.y, omega, V_next)
    dg = numpy_model.df_out(instance.y, omega, V_next)
    Sigma = 1 / (-(X_squared.T @ dg) / n)
    R = first.w_hat + Sigma * (instance.X.T @ g) / np.sqrt(n)
    return g, numpy_model.f_w(Sigma, R), numpy_model.variance_w(Sigma, R)


def _gamp_verdict(what, slide_value, toolkit_value, corrected=None):
    difference = float(np.max(np.abs(slide_value - toolkit_value)))
    if difference < 1e-12 * max(1.0, float(np.max(np.abs(toolkit_value)))):
        return Verdict(True, f"{what}: equal to the toolkit's GAMP step to {difference:.1e} (n = 40, alpha = 2, seed 0)")
    index = int(np.argmax(np.abs(slide_value - toolkit_value)))
    return Verdict(False, f"{what}: differs from the toolkit's GAMP step by up to {difference:.3g}", corrected,
                   f"entry {index} of the second step (n = 40, alpha = 2, seed 0): {slide_value[index]:.10g} "
                   f"(slide) against {toolkit_value[index]:.10g} (toolkit)")


def check_gamp_V():
    g, _, _ = slide_gamp_step(onsager_from_previous_v=False)
    return _gamp_verdict("f_out at V^{t+1} = sum_i X^2 v^t / n", g, gamp_run()[-1].g)


def check_gamp_onsager():
    g, _, _ = slide_gamp_step(onsager_from_previous_v=True)
    verdict = _gamp_verdict("f_out at omega^{t+1} with the Onsager term V^t f_out^t", g, gamp_run()[-1].g,
                            "omega^{t+1} = sum_i X w_hat^t / sqrt(n) - V^{t+1} f_out^t, with V^{t+1} from v^t")
    if verdict.holds:
        return verdict
    return Verdict(False, verdict.detail + ". The Onsager term takes the variance V^{t+1} computed from the same "
                   "v^t; the two agree only at a fixed point", verdict.corrected, verdict.point)


def check_gamp_sigma():
    _, _, v = slide_gamp_step(onsager_from_previous_v=False)
    return _gamp_verdict("v = variance(Sigma, R) with Sigma = (-sum X^2 d_omega f_out / n)^-1", v, gamp_run()[-1].v)


def check_gamp_R():
    _, w_hat, _ = slide_gamp_step(onsager_from_previous_v=False)
    return _gamp_verdict("w_hat = f_w(Sigma, R) with R = w_hat^t + Sigma sum X f_out / sqrt(n)", w_hat,
                         gamp_run()[-1].w_hat)


def check_gamp_summary_update():
    inputs = model().input
    corrected = "w_hat = R / (1 + Sigma), v = Sigma / (1 + Sigma)"
    mean = compare(s.Sigma / (1 + s.R), inputs.f_w_gamp, SIGMA_R_POINTS, "w_hat = Sigma/(1+R)", corrected)
    variance = compare(1 / (1 + s.R), inputs.variance_gamp, SIGMA_R_POINTS, "v = 1/(1+R)", corrected)
    verdict = all_hold([mean, variance])
    if verdict.holds:
        return verdict
    return Verdict(False, verdict.detail + ". Sigma and R are swapped", verdict.corrected, verdict.point)


# Slide 4: state evolution.

def teacher_average_over_z(function_of_label):
    """int dz N(z; omega, V) g(sign z), resolved by the toolkit's Heaviside-aware integral."""
    total = 0
    for label in model().channel.labels:
        density = normal(s.z, s.omega, s.V) * sp.Heaviside(label * s.z)
        total += function_of_label(label) * integrate_over_line(density, s.z)
    return total


def over_omega(expr, q):
    """E_omega[expr] for omega ~ N(0, q) at V = 1 - q, as an integral over xi."""
    return gaussian_mean(expr.subs({s.omega: sp.sqrt(q) * s.xi, s.V: 1 - q}, simultaneous=True))


def check_se_qhat_definition():
    inner = teacher_average_over_z(lambda label: model().output.f_out[label] ** 2)
    claimed = s.alpha * over_omega(inner, s.q)
    return compare(claimed, bayes_optimal(s.qhat), Q_POINTS, "alpha E[f_out^2] against -2 alpha d_q Psi_out")


def check_se_mhat_definition():
    # d_z f_out(omega, sign z, V) = (f_out(+1) - f_out(-1)) delta(z) in the sense of distributions, so
    # the z average is N(0; omega, V) (f_out(+1) - f_out(-1)).
    output = model().output
    inner = normal(0, s.omega, s.V) * (output.f_out[1] - output.f_out[-1])
    claimed = s.alpha * over_omega(inner, s.q)
    return compare(claimed, bayes_optimal(mhat), Q_POINTS, "alpha E[d_z f_out] against alpha d_m Psi_out at m = q")


def _gaussian_mean_closed_form(expr, var):
    """E_var[expr] for var ~ N(0, 1) and expr polynomial in var, term by term.

    The factors free of ``var`` stay outside the integral. ``integrate_over_line`` expands its
    argument, which would move exp(-var^2 / 2) into a denominator such as 1 / (1 + 1/qhat), and
    SymPy's ``integrate`` then takes seconds to return that form unevaluated.
    """
    total = 0
    for term in sp.Add.make_args(sp.expand(expr)):
        coefficient, rest = term.as_independent(var, as_Mul=True)
        total += coefficient * integrate_over_line(rest * standard_normal_pdf(var), var)
    return total


def _teacher_field_average(expr_of_R):
    """E over w* ~ N(0, 1) and xi of g(R) at R = w* + sqrt(Sigma) xi, Sigma = 1 / qhat, in closed form."""
    field = s.w + s.xi / sp.sqrt(s.qhat)
    inner = _gaussian_mean_closed_form(expr_of_R(field), s.xi)
    return sp.simplify(_gaussian_mean_closed_form(inner, s.w))


def check_se_q_and_m():
    f_w = model().input.f_w_gamp.subs(s.Sigma, 1 / s.qhat)
    q_claim = _teacher_field_average(lambda R: f_w.subs(s.R, R) ** 2)
    m_claim = _teacher_field_average(lambda R: s.w * f_w.subs(s.R, R))
    return all_hold([
        compare(q_claim, bayes_optimal(s.q), QHAT_POINTS, "q = E[f_w^2] against -2 d_qhat Psi_w"),
        compare(m_claim, q_claim, QHAT_POINTS, "m = E[w* f_w] against q (Nishimori)"),
    ])


def check_se_q_iteration():
    f_w = model().input.f_w_gamp.subs(s.Sigma, 1 / s.qhat)
    claimed = _teacher_field_average(lambda R: f_w.subs(s.R, R) ** 2)
    return compare(claimed, bayes_optimal(s.q), QHAT_POINTS, "q^{t+1} against -2 d_qhat Psi_w")


def check_se_qhat_alpha():
    # -int dp dz N(p; 0, m) N(z; p, 1 - m) d_p f_out(p, sign z, 1 - m); the z integral gives Z_out.
    output = model().output
    inner = teacher_average_over_z(lambda label: output.df_out[label])
    claimed = -over_omega(inner, s.q)
    return compare(claimed, bayes_optimal(s.qhat), Q_POINTS, "qhat^t against the RS qhat equation",
                   "qhat^t = -alpha int dp dz N(p; 0, m) N(z; p, 1 - m) d_p f_out(p, sign z, 1 - m)")


def check_q_of_qhat():
    return compare(s.qhat / (1 + s.qhat), bayes_optimal(s.q), QHAT_POINTS, "q(qhat)")


def check_qhat_erf_form():
    return compare(checks.qhat_erf_form(sp.Integer(1)), bayes_optimal(s.qhat), Q_POINTS, "qhat(q)")


def check_iteration_form():
    return all_hold([check_q_of_qhat(), check_qhat_erf_form()])


# Slide 5: the replica trick.

def check_replica_trick():
    # For Z taking the values a and b with probabilities p and 1 - p.
    a, b = sp.Symbol("a", positive=True), sp.Symbol("b", positive=True)
    p, r = sp.Symbol("p", positive=True), sp.Symbol("r", positive=True)
    moment = p * a**r + (1 - p) * b**r
    claimed = sp.limit(sp.diff(sp.log(moment), r), r, 0)
    return compare(claimed, p * sp.log(a) + (1 - p) * sp.log(b), [{a: 2, b: sp.Rational(1, 3), p: sp.Rational(1, 4)}],
                   "lim_{r->0} d/dr log E[Z^r] against E[log Z] for a two-valued Z")


# Slide 6: the RS calculation.

@lru_cache(maxsize=1)
def fixed_point_at_one():
    from replica_tools.numerics.compiled import NumpyModel
    from replica_tools.solvers.state_evolution import solve_fixed_point

    solution = solve_fixed_point(NumpyModel(model(), 1.0), [1.0])
    return 1.0, float(solution.q[0]), float(solution.qhat[0])


def check_rs_free_entropy():
    stationary = checks.check_stationarity(model(), *fixed_point_at_one(), free_entropy=free_entropy())
    closing = checks.check_nishimori_reduction(model(), free_entropy())
    return all_hold([Verdict(stationary.holds, f"stationary at the SE fixed point: largest partial derivative "
                                               f"{stationary.residual:.1e} at alpha = 1"),
                     Verdict(closing.holds, "the Nishimori values Q = rho, Qhat = 0, m = q, mhat = qhat solve "
                                            "the Q, Qhat, m, mhat equations")])


def check_psi_w():
    # As written, Z_w* is a density over xi: its mean is 1, and Psi_w equals the teacher-law form.
    student = model()
    teacher_Z = student.input.Z_w.subs({s.gamma: mhat * s.xi / sp.sqrt(s.qhat), s.Lambda: mhat**2 / s.qhat},
                                       simultaneous=True)
    return all_hold([
        compare(gaussian_mean(teacher_Z), sp.Integer(1), [GENERAL_POINT], "E_xi[Z_w*]"),
        compare(psi_w_integral(student, student), free_entropy().Psi_w, [GENERAL_POINT],
                "Psi_w as written against E_{w*, xi}[log Z_w(mhat w* + sqrt(qhat) xi, Qhat + qhat)]"),
    ])


def check_psi_out():
    # Z_out* (y, m xi / sqrt(q), rho - m^2 / q) N(xi) is the joint law of (y, xi) under the teacher.
    output = model().output
    total = sum(gaussian_mean(output.Z_out[label].subs({s.omega: m * s.xi / sp.sqrt(s.q), s.V: 1 - m**2 / s.q},
                                                       simultaneous=True))
                for label in model().channel.labels)
    from replica_tools.symbolic.replica import rs_free_entropy as two_parameter_free_entropy

    reduced = free_entropy().Psi_out.subs({Q: 1, m: s.q})
    return all_hold([
        compare(total, sp.Integer(1), [GENERAL_POINT], "sum_y E_xi[Z_out*]"),
        compare(reduced, two_parameter_free_entropy(model()).Psi_out, [{s.q: sp.Rational(3, 10)}],
                "Psi_out at Q = rho, m = q against the Bayes-optimal Psi_out(q)"),
    ])


def check_saddle_point_definitions():
    Psi_w, Psi_out = free_entropy().Psi_w, free_entropy().Psi_out
    transcribed = {Qhat: -2 * s.alpha * sp.diff(Psi_out, Q), s.qhat: -2 * s.alpha * sp.diff(Psi_out, s.q),
                   mhat: s.alpha * sp.diff(Psi_out, m), Q: -2 * sp.diff(Psi_w, Qhat), s.q: -2 * sp.diff(Psi_w, s.qhat),
                   m: sp.diff(Psi_w, mhat)}
    equations = free_entropy().saddle_point_equations
    return all_hold([compare(rhs, equations[parameter].rhs, [GENERAL_POINT], f"{parameter}")
                     for parameter, rhs in transcribed.items()], separator=", ")


def check_bayes_optimal_qhat():
    output = model().output
    arguments = {s.omega: sp.sqrt(s.q) * s.xi, s.V: 1 - s.q}
    claimed = s.alpha * sum(gaussian_mean((output.Z_out[label] * output.f_out[label] ** 2).subs(arguments, simultaneous=True))
                            for label in model().channel.labels)
    return compare(claimed, bayes_optimal(s.qhat), Q_POINTS, "alpha E[Z_out* f_out*^2] against -2 alpha d_q Psi_out")


def check_bayes_optimal_q():
    inputs = model().input
    arguments = {s.gamma: sp.sqrt(s.qhat) * s.xi, s.Lambda: s.qhat}
    claimed = gaussian_mean((inputs.Z_w * inputs.f_w**2).subs(arguments, simultaneous=True))
    return compare(claimed, bayes_optimal(s.q), QHAT_POINTS, "E[Z_w* f_w*^2] against -2 d_qhat Psi_w")


# Slide 7: auxiliary functions and large alpha.

def noisy_sign_channel():
    """P_out(y | z) = N(y; sign z, Delta): a sign teacher with Gaussian label noise of variance Delta."""
    p_out = sp.Heaviside(s.z) * normal(s.y, 1, Delta) + sp.Heaviside(-s.z) * normal(s.y, -1, Delta)
    return Channel(name="noisy sign", p_out=p_out, labels=())


def check_noisy_Z_out():
    derived = derive_partition_function(noisy_sign_channel(), s.y)
    x = s.omega / sp.sqrt(2 * s.V)
    claimed = normal(s.y, 1, Delta) * (1 + sp.erf(x)) + normal(s.y, -1, Delta) * (1 - sp.erf(x)) / 2
    return compare(claimed, derived, NOISY_POINTS, "Z_out with label noise",
                   "Z_out = N_y(1, Delta) (1 + erf(omega/sqrt(2V))) / 2 + N_y(-1, Delta) (1 - erf(omega/sqrt(2V))) / 2")


def check_noisy_f_out():
    Z_out = derive_partition_function(noisy_sign_channel(), s.y)
    derived = sp.diff(sp.log(Z_out), s.omega)
    claimed = (normal(s.y, 1, Delta) - normal(s.y, -1, Delta)) / Z_out * normal(s.omega, 0, s.V)
    return compare(claimed, derived, NOISY_POINTS, "f_out with label noise (with the derived Z_out)")


def check_replica_prior():
    claimed = sp.exp(s.gamma**2 / (2 * (s.Lambda + 1))) / sp.sqrt(s.Lambda + 1)
    inputs = model().input
    return all_hold([
        compare(claimed, inputs.Z_w, GAMMA_LAMBDA_POINTS, "Z_w(gamma, Lambda)"),
        compare(s.gamma / (1 + s.Lambda), inputs.f_w, GAMMA_LAMBDA_POINTS, "f_w"),
        compare(1 / (1 + s.Lambda), inputs.variance, GAMMA_LAMBDA_POINTS, "d_gamma f_w"),
    ])


def large_alpha_k():
    """k = sqrt(2/pi) int phi(t)^2 / Phi(t) dt, by quadrature."""
    return mpmath.sqrt(2 / mpmath.pi) * mpmath.quad(lambda t: mpmath.npdf(t) ** 2 / mpmath.ncdf(t), [-mpmath.inf, 0, mpmath.inf])


@lru_cache(maxsize=1)
def large_alpha_fixed_point():
    from replica_tools.solvers.fixed_point_mp import solve_fixed_point_mp

    return solve_fixed_point_mp(perceptron(), 1000, dps=DIGITS_LARGE_ALPHA)


DIGITS_LARGE_ALPHA = 30


def check_large_alpha_overlaps():
    # At alpha = 1000 the claimed leading terms must match the solved fixed point to O(1 / alpha^2).
    k, alpha = large_alpha_k(), mpmath.mpf(1000)
    point = large_alpha_fixed_point()
    closed_form = (alpha * k * mpmath.sqrt(alpha**2 * k**2 + 4) - alpha**2 * k**2) / 2
    qhat_ratio = point.qhat / (k * alpha) ** 2
    delta_ratio = point.delta * (k * alpha) ** 2
    closed_ratio = (1 - closed_form) * (k * alpha) ** 2
    bound = 10 / alpha**2
    holds = abs(qhat_ratio - 1) < bound and abs(delta_ratio - 1) < bound and abs(closed_ratio - 1) < bound
    detail = (f"at alpha = 1000 (mpmath fixed point, k = {mpmath.nstr(k, 12)}): qhat / (k alpha)^2 = "
              f"{mpmath.nstr(qhat_ratio, 10)}, (1 - q) (k alpha)^2 = {mpmath.nstr(delta_ratio, 10)}, and the closed "
              f"form gives {mpmath.nstr(closed_ratio, 10)}; all within {mpmath.nstr(bound, 2)} of 1")
    return Verdict(holds, detail)


def check_large_alpha_error():
    k = large_alpha_k()
    C = 1 / (k * mpmath.pi)
    point = large_alpha_fixed_point()
    scaled = 1000 * point.eps_bayes
    holds = abs(C - mpmath.mpf("0.4417")) < mpmath.mpf("0.00005") and abs(scaled / C - 1) < mpmath.mpf(10) ** -5
    return Verdict(holds, f"1/(k pi) = {mpmath.nstr(C, 12)} rounds to 0.4417; alpha eps_Bayes at alpha = 1000 is "
                          f"{mpmath.nstr(scaled, 12)}")


SLIDE_2 = "感知机的泛化误差 (model setting)"
SLIDE_3 = "广义消息传递方程: relax-BP (relaxed BP)"
SLIDE_4_GAMP = "广义消息传递方程: GAMP 算法总结 (GAMP summary)"
SLIDE_4_SE = "状态演化方程 (state evolution)"
SLIDE_5 = "复本方法 (replica method)"
SLIDE_6 = "复本对称计算 (RS calculation)"
SLIDE_7 = "复本对称计算: 辅助函数 (auxiliary functions, large alpha)"

CLAIMS = (
    Claim("S2.1", "labels", SLIDE_2, "y = sign(X w* / sqrt(n)), i.e. P_out(y|z) = Theta(y z)", check_labels),
    Claim("S2.2", "reparametrization", SLIDE_2,
          "z = sigma_{w*w_hat} / sqrt(sigma_w_hat) x1 + sqrt(sigma_w*^2 - sigma_{w*w_hat} / sigma_w_hat) x2",
          check_reparametrization),
    Claim("S2.3", "generalization error", SLIDE_2, "eps_gen = arccos(sqrt(q / rho)) / pi", check_generalization_error),
    Claim("S3.1", "Gaussian message", SLIDE_3,
          "m(x) = sqrt(A/(2 pi N)) exp(-x^2 A/(2N) + B x/sqrt(N) - B^2/(2A))", check_gaussian_message),
    Claim("S3.2", "B and A", SLIDE_3, "B = X f_out(omega, y, V), A = -X^2 d_omega f_out(omega, y, V)",
          check_message_coefficients),
    Claim("S3.3", "f_out integral form", SLIDE_3,
          "f_out = int dz P_out (z-omega) e^{-(z-omega)^2/2V} / (V int dz P_out e^{-(z-omega)^2/2V})",
          check_f_out_integral_form),
    Claim("S3.4", "d_omega f_out integral form", SLIDE_3,
          "d_omega f_out = int (z-omega)^2 P_out e^{..} / (V^2 int P_out e^{..}) - 1/V - f_out^2",
          check_df_out_integral_form),
    Claim("S3.5", "Sigma and R", SLIDE_3, "Sigma = 1 / sum_mu A, R = sum_mu B / sum_mu A", check_sigma_and_R),
    Claim("S3.6", "f_w integral form", SLIDE_3,
          "f_w = int dw w P_0 e^{-(w-R)^2/2Sigma} / int dw P_0 e^{-(w-R)^2/2Sigma}", check_f_w_integral_form),
    Claim("S3.7", "relaxed BP mean", SLIDE_3, "w_hat = f_w(Sigma, R) = R / (1 + Sigma)", check_relaxed_bp_mean),
    Claim("S3.8", "relaxed BP variance", SLIDE_3, "v = d_R f_w(Sigma, R) = 1 / (1 + Sigma)", check_relaxed_bp_variance),
    Claim("S4.1", "GAMP V update", SLIDE_4_GAMP, "V^{t+1} = sum_i X^2 v^t / n", check_gamp_V),
    Claim("S4.2", "GAMP Onsager term", SLIDE_4_GAMP, "omega^{t+1} = sum_i X w_hat^t / sqrt(n) - V^t f_out^t",
          check_gamp_onsager),
    Claim("S4.3", "GAMP Sigma update", SLIDE_4_GAMP, "Sigma^{t+1} = (-sum_mu X^2 d_omega f_out / n)^{-1}",
          check_gamp_sigma),
    Claim("S4.4", "GAMP R update", SLIDE_4_GAMP, "R^{t+1} = w_hat^t + Sigma^{t+1} sum_mu X f_out / sqrt(n)",
          check_gamp_R),
    Claim("S4.5", "GAMP summary update", SLIDE_4_GAMP, "w_hat = Sigma / (1 + R), v = 1 / (1 + R)",
          check_gamp_summary_update),
    Claim("S4.6", "SE qhat definition", SLIDE_4_SE, "qhat = alpha E_{omega,z}[f_out(omega, sign z, V)^2]",
          check_se_qhat_definition),
    Claim("S4.7", "SE mhat definition", SLIDE_4_SE, "mhat = alpha E_{omega,z}[d_z f_out(omega, sign z, V)]",
          check_se_mhat_definition),
    Claim("S4.8", "SE q and m", SLIDE_4_SE, "q = E_{w*} E_{R,Sigma}[f_w^2], m = E_{w*} E_{R,Sigma}[w* f_w], q = m",
          check_se_q_and_m),
    Claim("S4.9", "SE q iteration", SLIDE_4_SE, "q^{t+1} = int dx P_X(x) int Dxi f_w(1/qhat^t, x + xi/sqrt(qhat^t))^2",
          check_se_q_iteration),
    Claim("S4.10", "SE qhat iteration", SLIDE_4_SE,
          "qhat^t = -int dp dz N(p; 0, m) N(z; p, 1 - m) d_p f_out(p, sign z, 1 - m)", check_se_qhat_alpha),
    Claim("S4.11a", "final q of qhat", SLIDE_4_SE, "q = qhat / (1 + qhat)", check_q_of_qhat),
    Claim("S4.11b", "final qhat erf form", SLIDE_4_SE,
          "qhat = (2/pi) alpha/(1-q) int Dxi exp(-q xi^2/(1-q)) / (1 + erf(sqrt(q) xi / sqrt(2(1-q))))",
          check_qhat_erf_form),
    Claim("S5.1", "replica trick", SLIDE_5, "Phi = (1/n) lim_{r->0} d/dr log E[Z^r]", check_replica_trick),
    Claim("S6.1", "RS free entropy", SLIDE_6,
          "Phi_rs = extr{-m mhat + Q Qhat/2 + q qhat/2 + Psi_w(Qhat, mhat, qhat) + alpha Psi_out(Q, m, q; rho)}",
          check_rs_free_entropy),
    Claim("S6.2", "Psi_w", SLIDE_6,
          "Psi_w = E_xi[Z_w*(mhat qhat^{-1/2} xi, mhat^2/qhat) log Z_w(qhat^{1/2} xi, Qhat + qhat)]", check_psi_w),
    Claim("S6.3", "Psi_out", SLIDE_6,
          "Psi_out = E_{y,xi}[Z_out*(y, m q^{-1/2} xi, rho - m^2/q) log Z_out(y, q^{1/2} xi, Q - q)]", check_psi_out),
    Claim("S6.4", "saddle-point equations", SLIDE_6,
          "Qhat = -2 alpha d_Q Psi_out, qhat = -2 alpha d_q Psi_out, mhat = alpha d_m Psi_out, "
          "Q = -2 d_Qhat Psi_w, q = -2 d_qhat Psi_w, m = d_mhat Psi_w", check_saddle_point_definitions),
    Claim("S6.5", "Bayes-optimal qhat", SLIDE_6,
          "qhat = alpha E_{y,xi}[Z_out*(y, q^{1/2} xi, rho - q) f_out*(y, q^{1/2} xi, rho - q)^2]",
          check_bayes_optimal_qhat),
    Claim("S6.6", "Bayes-optimal q", SLIDE_6, "q = E_xi[Z_w*(qhat^{1/2} xi, qhat) f_w*(qhat^{1/2} xi, qhat)^2]",
          check_bayes_optimal_q),
    Claim("S7.1", "Z_out with label noise", SLIDE_7,
          "Z_out = N_y(1, Delta) (1 + erf(omega/sqrt(2V))) + N_y(-1, Delta) (1 - erf(omega/sqrt(2V))) / 2",
          check_noisy_Z_out),
    Claim("S7.2", "f_out with label noise", SLIDE_7, "f_out = (N_y(1, Delta) - N_y(-1, Delta)) N_omega(0, V) / Z_out",
          check_noisy_f_out),
    Claim("S7.3", "Gaussian prior Z_w and f_w", SLIDE_7,
          "Z_w = exp(gamma^2/(2(Lambda+1))) / sqrt(Lambda+1), f_w = gamma/(1+Lambda), d_gamma f_w = 1/(1+Lambda)",
          check_replica_prior),
    Claim("S7.4", "iteration form", SLIDE_7,
          "q = qhat/(1+qhat), qhat = (2/pi) alpha/(1-q) int Dxi e^{-q xi^2/(1-q)} / (1 + erf(sqrt(q) xi/sqrt(2(1-q))))",
          check_iteration_form),
    Claim("S7.5", "large-alpha overlaps", SLIDE_7,
          "q_b = (alpha k sqrt(alpha^2 k^2 + 4) - alpha^2 k^2)/2 ~ 1 - 1/(alpha^2 k^2), qhat_b ~ k^2 alpha^2",
          check_large_alpha_overlaps),
    Claim("S7.6", "large-alpha error", SLIDE_7, "e_bayes(alpha) = acos(sqrt(q_b))/pi ~ 1/(k pi alpha) ~ 0.4417/alpha",
          check_large_alpha_error),
)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Audit the slides' equations against the derivation.")
    parser.add_argument("--write", metavar="FILE", help="also write the Markdown report to FILE")
    args = parser.parse_args(argv)

    results = run_audit(CLAIMS)
    for claim, verdict in results:
        print(verdict_line(claim, verdict))
    holding, differing = verdict_counts(results)
    print(f"\n{len(results)} equations: {holding} hold, {differing} differ.")
    if args.write:
        from replica_tools.reports.files import write_atomic

        write_atomic(Path(args.write), to_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
