"""The built-in channels: declarations, compiled output functions, state evolution, labels, GAMP.

Every expected value is written out here from the channel's definition (y = sign(z) + noise and
so on) and evaluated with mpmath at 50 digits, SciPy, or a second quadrature; none comes from the
derivation under test.
"""

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import special

from replica_tools.cli.arguments import ArgumentParser, UsageError, add_model_arguments, model_from_args
from replica_tools.numerics.compiled import NumpyModel
from replica_tools.solvers.gamp import gamp
from replica_tools.solvers.labels import draw_labels
from replica_tools.solvers.output_maps import OutputMap
from replica_tools.solvers.state_evolution import solve_fixed_point
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.catalog import CHANNELS, build_model
from replica_tools.symbolic.replica import rs_free_entropy, state_evolution_equations

TINY = 1e-280  # below this the references are near the subnormal range and compared absolutely

CASES = [
    ("noisy-sign", {"Delta": 0.01}),
    ("noisy-sign", {"Delta": 1.0}),
    ("sign-flip", {"eta": 0.0}),
    ("sign-flip", {"eta": 0.1}),
    ("sign-flip", {"eta": 0.49}),
    ("probit", {"sigma": 1e-3}),
    ("probit", {"sigma": 0.5}),
    ("linear", {"Delta": 1e-4}),
    ("linear", {"Delta": 0.1}),
]

_compiled = {}


def compiled(channel, parameters, rho=1.0):
    key = (channel, tuple(sorted(parameters.items())), rho)
    if key not in _compiled:
        _compiled[key] = NumpyModel(build_model(channel=channel, channel_parameters=parameters), rho)
    return _compiled[key]


def reference_output(channel, parameter, y, omega, V):
    """Return (f_out, d_omega f_out, scale) at 50 digits from Z_out written by hand.

    ``scale`` bounds the terms whose sum f_out or d_omega f_out is, so that a value that cancels to
    0 (f_out of the noisy sign channel at y = 0) is compared against the size of its terms.
    """
    with mpmath.workdps(50):
        y, omega, V, p = (mpmath.mpf(value) for value in (y, omega, V, parameter))
        u = omega / mpmath.sqrt(V)
        if channel == "linear":
            # Z_out = N(y; omega, V + Delta)
            f_out, df_out = (y - omega) / (V + p), -1 / (V + p)
            return f_out, df_out, abs(f_out), abs(df_out)
        if channel == "noisy-sign":
            # Z_out = N(y; 1, Delta) Phi(u) + N(y; -1, Delta) Phi(-u)
            a, b = mpmath.npdf(y, 1, mpmath.sqrt(p)), mpmath.npdf(y, -1, mpmath.sqrt(p))
            Z = a * mpmath.ncdf(u) + b * mpmath.ncdf(-u)
            dZ, d2Z = (a - b) * mpmath.npdf(u) / mpmath.sqrt(V), -(a - b) * u * mpmath.npdf(u) / V
            scale = (a + b) * mpmath.npdf(u) / mpmath.sqrt(V) / Z
        elif channel == "sign-flip":
            # Z_out = (1 - eta) Phi(y u) + eta Phi(-y u)
            Z = (1 - p) * mpmath.ncdf(y * u) + p * mpmath.ncdf(-y * u)
            dZ, d2Z = y * (1 - 2 * p) * mpmath.npdf(u) / mpmath.sqrt(V), -y * (1 - 2 * p) * u * mpmath.npdf(u) / V
            scale = abs(dZ / Z)
        else:
            # probit: Z_out = Phi(y omega / sqrt(V + sigma^2))
            sd = mpmath.sqrt(V + p**2)
            x = y * omega / sd
            Z, dZ, d2Z = mpmath.ncdf(x), y * mpmath.npdf(x) / sd, -x * mpmath.npdf(x) / sd**2
            scale = abs(dZ / Z)
        f_out = dZ / Z
        df_out = d2Z / Z - f_out**2
        return f_out, df_out, scale, abs(d2Z / Z) + f_out**2


def label_grid(channel, parameter):
    if channel in ("sign-flip", "probit"):
        return [-1.0, 1.0]
    spread = np.sqrt(parameter)
    return list(np.linspace(-3, 3, 9)) + [1 + 6 * spread, -1 - 6 * spread, 30.0]


def worst_relative_errors(channel, parameters):
    """Return the largest relative errors of f_out and d_omega f_out over the grid."""
    numpy_model = compiled(channel, parameters)
    (parameter,) = parameters.values()
    points = [(y, u * np.sqrt(V), V) for y in label_grid(channel, parameter)
              for u in np.linspace(-38, 38, 20) for V in np.geomspace(1e-10, 1e2, 5)]
    y, omega, V = (np.array(column) for column in zip(*points))
    f_out, df_out = numpy_model.f_out(y, omega, V), numpy_model.df_out(y, omega, V)
    assert np.all(np.isfinite(f_out))
    assert np.all(np.isfinite(df_out))

    worst_f = worst_df = 0.0
    for i, point in enumerate(points):
        f_ref, df_ref, f_scale, df_scale = (float(value) for value in reference_output(channel, parameter, *point))
        if f_scale > TINY:
            worst_f = max(worst_f, abs(f_out[i] - f_ref) / f_scale)
        if df_scale > TINY:
            worst_df = max(worst_df, abs(df_out[i] - df_ref) / df_scale)
    return worst_f, worst_df


@pytest.mark.parametrize("channel, parameters", CASES)
def test_output_functions_match_mpmath(channel, parameters):
    worst_f, worst_df = worst_relative_errors(channel, parameters)
    assert worst_f < 1e-11
    assert worst_df < 1e-10


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_p_out_is_normalized(name):
    channel = CHANNELS[name].make("channel")
    for z in (sp.Rational(-7, 10), sp.Rational(13, 10)):
        at_z = channel.p_out.subs(s.z, z)
        if channel.continuous:
            total = sp.integrate(at_z, (s.y, -sp.oo, sp.oo))
        else:
            total = sum(at_z.subs(s.y, label) for label in channel.labels)
        assert sp.N(total.rewrite(sp.erfc), 30) == pytest.approx(1, abs=1e-25)


@pytest.mark.parametrize("argv, message", [
    (["--channel", "noisy-sign", "--Delta", "0"], r"Delta = 0 is invalid for channel noisy-sign: .*\[1e-06, 1000\]"),
    (["--channel", "linear", "--Delta", "-1"], r"Delta = -1 is invalid for channel linear: .*\[1e-06, 1000\]"),
    (["--channel", "linear", "--Delta", "inf"], r"Delta = inf is invalid"),
    (["--channel", "sign-flip", "--eta", "0.5"], r"eta = 0.5 is invalid for channel sign-flip: .*\[0, 0.49\]"),
    (["--channel", "sign-flip", "--eta", "-0.01"], r"eta = -0.01 is invalid .*\[0, 0.49\]"),
    (["--channel", "probit", "--sigma", "0"], r"sigma = 0 is invalid for channel probit: .*\[1e-06, 1000\]"),
    (["--channel", "probit", "--sigma", "nan"], r"sigma = nan is invalid"),
    (["--channel", "probit", "--Delta", "1"], r"--Delta does not apply"),
])
def test_channel_parameters_out_of_range_rejected(argv, message):
    parser = ArgumentParser(prog="replica-tools test")
    add_model_arguments(parser)
    with pytest.raises(UsageError, match=message) as caught:
        model_from_args(parser.parse_args(argv))
    assert "\n" not in str(caught.value)


def test_linear_channel_equations_in_closed_form():
    model = build_model(channel="linear", channel_parameters={"Delta": 0.25})
    Delta = sp.Rational(1, 4)
    equations = state_evolution_equations(model)
    assert equations.numeric == ()
    # int dy Z_out f_out^2 with Z_out = N(y; omega, V + Delta), f_out = (y - omega) / (V + Delta)
    assert sp.simplify(equations.qhat_integrand - 1 / (1 - s.q + Delta)) == 0
    free_entropy = rs_free_entropy(model)
    assert free_entropy.numeric == ()
    _, qhat_equation = free_entropy.saddle_point_equations()
    # Psi_out = -log(2 pi e (V + Delta)) / 2, the negative entropy of N(0, V + Delta)
    assert sp.simplify(qhat_equation.rhs.doit() - s.alpha / (1 - s.q + Delta)) == 0


def test_noisy_sign_equations_report_numeric_objects():
    model = build_model(channel="noisy-sign", channel_parameters={"Delta": 0.1})
    assert state_evolution_equations(model).numeric == ("qhat: int dy Z_out f_out^2",)
    assert rs_free_entropy(model).numeric == ("Psi_out: int dy Z_out log Z_out",)


def _composite_rule(low, high, panels, order=10):
    nodes, weights = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(low, high, panels + 1)
    middle, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    return (middle[:, None] + half[:, None] * nodes).ravel(), (half[:, None] * weights).ravel()


def noisy_sign_expectation_reference(Delta, q, V):
    """E_xi int dy (d_omega Z_out)^2 / Z_out by composite Gauss-Legendre in (y, u = omega / sqrt V), in logs."""
    y, y_weights = _composite_rule(-1 - 14 * np.sqrt(Delta), 1 + 14 * np.sqrt(Delta), 300)
    u, u_weights = _composite_rule(-40, 40, 200)
    Y, U = np.meshgrid(y, u, indexing="ij")
    log_a, log_b = -(Y - 1) ** 2 / (2 * Delta), -(Y + 1) ** 2 / (2 * Delta)
    log_norm = -0.5 * np.log(2 * np.pi * Delta)
    log_Z = np.logaddexp(log_a + special.log_ndtr(U), log_b + special.log_ndtr(-U)) + log_norm
    log_difference = np.maximum(log_a, log_b) + np.log(-np.expm1(-np.abs(log_a - log_b))) + log_norm
    integrand = np.exp(2 * log_difference - U**2 - np.log(2 * np.pi * V) - log_Z)
    kappa = np.sqrt(V / q)
    return np.sum(u_weights * kappa * np.exp(-(kappa * u) ** 2 / 2) / np.sqrt(2 * np.pi) * (y_weights @ integrand))


@pytest.mark.parametrize("Delta, q", [(0.1, 0.5), (0.3, 0.999), (1.0, 1 - 1e-6)])
def test_noisy_sign_qhat_matches_second_quadrature(Delta, q):
    output_map = OutputMap(build_model(channel="noisy-sign", channel_parameters={"Delta": Delta}), 1.0)
    V = 1 - q
    value = output_map.expectation(np.array([q]), np.array([V]))[0]
    reference = noisy_sign_expectation_reference(Delta, q, V)
    assert abs(value - reference) <= 1e-7 * reference


def finite_label_expectation_reference(channel, parameter, q, V):
    """E_xi sum_y (d_omega Z_out)^2 / Z_out by mpmath quad at 20 digits, in u = omega / sqrt(V)."""
    with mpmath.workdps(20):
        q, V, p = mpmath.mpf(q), mpmath.mpf(V), mpmath.mpf(parameter)

        def over_labels(u):
            if channel == "sign-flip":
                # Z_out(y) = eta + (1 - 2 eta) Phi(y u)
                return sum(((1 - 2 * p) * mpmath.npdf(u)) ** 2 / V / (p + (1 - 2 * p) * mpmath.ncdf(y * u))
                           for y in (-1, 1))
            sd = mpmath.sqrt(V + p**2)
            x = u * mpmath.sqrt(V) / sd
            return sum(mpmath.npdf(x) ** 2 / sd**2 / mpmath.ncdf(y * x) for y in (-1, 1))

        kappa = mpmath.sqrt(V / q)
        return mpmath.quad(lambda u: kappa * mpmath.npdf(kappa * u) * over_labels(u),
                           [-mpmath.inf, -20, -5, 0, 5, 20, mpmath.inf])


@pytest.mark.parametrize("channel, parameter", [("sign-flip", 0.1), ("probit", 0.5), ("probit", 1e-3)])
@pytest.mark.parametrize("q", [0.5, 0.999, 1 - 1e-8])
def test_finite_label_qhat_matches_mpmath(channel, parameter, q):
    name = {"sign-flip": "eta", "probit": "sigma"}[channel]
    output_map = OutputMap(build_model(channel=channel, channel_parameters={name: parameter}), 1.0)
    V = 1 - q
    value = output_map.expectation(np.array([q]), np.array([V]))[0]
    reference = float(finite_label_expectation_reference(channel, parameter, q, V))
    assert abs(value - reference) <= 1e-10 * reference


def linear_mmse_closed_form():
    """Solve the linear-channel SE with a Gaussian prior by SymPy: V = rho / (1 + rho qhat), qhat = alpha / (V + Delta).

    qhat: with y = z + sqrt(Delta) noise the estimate of z from omega has error V + Delta, so
    each sample carries precision 1 / (V + Delta). V: the Gaussian prior N(0, rho) seen through a
    Gaussian channel of precision qhat has posterior variance rho / (1 + rho qhat).
    """
    V, alpha, rho, Delta = sp.symbols("V alpha rho Delta", positive=True)
    qhat = alpha / (V + Delta)
    roots = sp.solve(sp.Eq(V * (1 + rho * qhat), rho), V)
    # Of the two roots of the quadratic, one is negative: keep the other.
    at_point = {alpha: 2, rho: 1, Delta: sp.Rational(1, 10)}
    (positive_root,) = [root for root in roots if root.subs(at_point) > 0]
    # The root is a difference of close numbers at large alpha: evaluate it with 30 digits.
    function = sp.lambdify((alpha, rho, Delta), positive_root, "mpmath")

    def evaluate(alphas, rho_value, Delta_value):
        with mpmath.workdps(30):
            return np.array([float(function(mpmath.mpf(a), mpmath.mpf(rho_value), mpmath.mpf(Delta_value)))
                             for a in alphas])

    return evaluate


@pytest.mark.parametrize("rho, Delta", [(1.0, 0.1), (2.5, 1e-3), (0.5, 4.0)])
def test_linear_channel_reproduces_closed_form_mmse(rho, Delta):
    mmse = linear_mmse_closed_form()
    numpy_model = NumpyModel(build_model(prior_parameters={"rho": rho}, channel="linear",
                                         channel_parameters={"Delta": Delta}), rho)
    alpha = np.geomspace(0.01, 100, 40)
    fixed_point = solve_fixed_point(numpy_model, alpha)
    np.testing.assert_allclose(fixed_point.V, mmse(alpha, rho, Delta), rtol=1e-10)


def test_linear_channel_mmse_matches_random_matrices():
    # The posterior of w given (X, y) is Gaussian with covariance (I / rho + X^T X / (n Delta))^-1.
    # The MMSE per weight is therefore the mean of 1 / (1 / rho + lambda / Delta) over the
    # eigenvalues lambda of X^T X / n, an exact finite-n value, here averaged over three matrices.
    rho, Delta, n = 1.0, 0.1, 400
    numpy_model = compiled("linear", {"Delta": Delta})
    rng = np.random.default_rng(7)
    for alpha in (0.5, 2.0):
        X = rng.standard_normal((int(alpha * n), n))
        mmse = np.mean([
            np.mean(1 / (1 / rho + np.linalg.eigvalsh(Xi.T @ Xi / n) / Delta))
            for Xi in (X, rng.standard_normal(X.shape), rng.standard_normal(X.shape))
        ])
        V = solve_fixed_point(numpy_model, np.array([alpha])).V[0]
        assert abs(V - mmse) < 0.03 * V


def _moments_of_p_out(channel, z):
    """E[y] and E[y^2] under P_out(. | z), by mpmath quad over y or a sum over the labels."""
    with mpmath.workdps(20):
        at_z = sp.lambdify(s.y, channel.p_out.subs(s.z, z), modules=[{"ndtr": mpmath.ncdf}, "mpmath"])
        if channel.continuous:
            return [float(mpmath.quad(lambda y: y**k * at_z(y), [-mpmath.inf, -1, 0, 1, mpmath.inf])) for k in (1, 2)]
        return [float(sum(label**k * at_z(label) for label in channel.labels)) for k in (1, 2)]


@pytest.mark.parametrize("channel, parameters", [
    ("noisy-sign", {"Delta": 0.3}), ("linear", {"Delta": 0.3}), ("sign-flip", {"eta": 0.2}), ("probit", {"sigma": 0.5}),
])
@pytest.mark.parametrize("z", [-0.8, 0.3])
def test_drawn_labels_follow_p_out(channel, parameters, z):
    model = build_model(channel=channel, channel_parameters=parameters)
    samples = 200_000
    y = draw_labels(model, np.full(samples, z), np.random.default_rng(3))
    expected_mean, expected_square = _moments_of_p_out(model.channel, sp.Float(z, 20))
    spread = np.sqrt(expected_square - expected_mean**2)
    assert abs(y.mean() - expected_mean) < 4 * spread / np.sqrt(samples)
    # For labels +-1, y^2 = 1 exactly, so its sample spread is 0 and only rounding may differ.
    assert abs(np.mean(y**2) - expected_square) <= 4 * np.std(y**2) / np.sqrt(samples) + 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("channel, parameters", [
    ("noisy-sign", {"Delta": 0.1}), ("linear", {"Delta": 0.1}), ("sign-flip", {"eta": 0.1}), ("probit", {"sigma": 0.5}),
])
def test_gamp_agrees_with_state_evolution(channel, parameters):
    # Bayes-optimal GAMP reaches the SE fixed point: m = w_hat . w* / n tends to q as n grows.
    n, alpha, seeds = 800, 2.0, range(4)
    numpy_model = compiled(channel, parameters)
    q = solve_fixed_point(numpy_model, np.array([alpha])).q[0]
    overlaps = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        w_star = rng.standard_normal(n)
        X = rng.standard_normal((int(alpha * n), n))
        y = draw_labels(numpy_model, X @ w_star / np.sqrt(n), rng)
        result = gamp(numpy_model, X, y, w_star=w_star)
        assert result.converged
        overlaps.append(result.m_history[-1])
    standard_error = np.std(overlaps, ddof=1) / np.sqrt(len(overlaps))
    assert abs(np.mean(overlaps) - q) < 4 * standard_error + 0.01


def test_gamp_rejects_non_finite_real_labels():
    numpy_model = compiled("linear", {"Delta": 0.1})
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="finite real labels"):
        gamp(numpy_model, X, np.array([0.5, np.nan, 1.0]))


def test_docs_channel_example_runs(capsys):
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "models.md").read_text()
    channels_part = text[text.index("## Channels"):]
    code = channels_part.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(compile(code, "docs/models.md", "exec"), namespace)

    # The values the page states, and GAMP within a finite-size spread of the state evolution.
    np.testing.assert_allclose(namespace["fixed_point"].q, [0.266, 0.472, 0.733], atol=5e-4)
    assert abs(namespace["result"].m_history[-1] - 0.687) < 5e-4
    assert abs(namespace["result"].m_history[-1] - namespace["fixed_point"].q[-1]) < 0.1
    assert "q from state evolution" in capsys.readouterr().out


def test_channel_without_closed_form_falls_back_to_quadrature():
    # The logistic channel P_out(y | z) = 1 / (1 + exp(-y z)) has no closed-form Z_out.
    from replica_tools.symbolic import Channel, Model, gaussian_prior

    channel = Channel("logistic", 1 / (1 + sp.exp(-s.y * s.z)), (sp.Integer(-1), sp.Integer(1)))
    model = Model(channel, gaussian_prior(1))
    assert model.output.numeric == ("Z_out(y=-1)", "Z_out(y=1)")
    numpy_model = NumpyModel(model, 1.0)
    for y, omega, V in [(1, 0.3, 0.5), (-1, 4.0, 10.0), (1, -6.0, 1e-3)]:
        with mpmath.workdps(30):
            def moment(order):
                def integrand(z):
                    return mpmath.npdf(z, omega, mpmath.sqrt(V)) * mpmath.diff(lambda x: 1 / (1 + mpmath.exp(-y * x)), z, order)
                width = 8 * mpmath.sqrt(V)
                return mpmath.quad(integrand, [omega - width, omega, omega + width])
            reference = float(moment(1) / moment(0))
        value = numpy_model.f_out(np.array([y]), np.array([omega]), np.array([V]))[0]
        assert abs(value - reference) < 1e-6 * abs(reference)

    fixed_point = solve_fixed_point(numpy_model, np.array([0.5, 2.0]))
    assert np.all(np.diff(fixed_point.q) > 0)
