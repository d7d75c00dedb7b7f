"""`latex` and `verify` on every prior x channel pair of the catalog.

Each pair either gives a result or reports, with the reason, that an identity does not apply.
What applies follows from the declaration alone: sums over labels need a finite label set, the
Gaussian reduction a Gaussian prior, the erf form the noiseless sign channel.
"""

import json
import re
import shutil
import subprocess

import pytest
import sympy as sp

from replica_tools.cli.main import main
from replica_tools.reports.latex import build_document, to_latex_document, to_markdown_document
from replica_tools.symbolic import checks
from replica_tools.symbolic import symbols as s
from replica_tools.symbolic.catalog import build_model

PRIORS = ("gaussian", "rademacher", "binary", "gauss-bernoulli")
CHANNELS = ("sign", "noisy-sign", "sign-flip", "probit", "linear")
REAL_LABEL_CHANNELS = {"noisy-sign", "linear"}
PAIRS = [(prior, channel) for prior in PRIORS for channel in CHANNELS]

# The pairs whose verify run takes a few seconds; the others are marked slow.
FAST_VERIFY_PAIRS = {("gaussian", "sign"), ("gaussian", "linear")}

_documents = {}


def document_of(prior, channel):
    """Build the document of a pair once per session: the derivation dominates the run time."""
    if (prior, channel) not in _documents:
        _documents[prior, channel] = build_document(build_model(prior, channel), asymptotic_digits=5)
    return _documents[prior, channel]


@pytest.mark.parametrize("prior, channel", PAIRS)
def test_latex_pair_has_output_functions(prior, channel):
    document = document_of(prior, channel)
    keys = {formula.key for formula in document.formulas()}

    labels = ["y"] if channel in REAL_LABEL_CHANNELS else ["-1", "1"]
    for label in labels:
        assert f"Z_out:{label}" in keys
        assert f"f_out:{label}" in keys
        assert f"df_out:{label}" in keys
    assert {"Phi_RS", "Psi_w", "Psi_out", "q:bayes", "qhat:bayes"} <= keys


@pytest.mark.parametrize("prior, channel", PAIRS)
def test_latex_pair_markdown_blocks(prior, channel):
    document = document_of(prior, channel)
    text = to_markdown_document(document)

    assert text.count("$$") == 2 * len(document.formulas())
    assert re.findall(r"\\tag\{(\d+)\}", text) == [str(n) for n in range(1, len(document.formulas()) + 1)]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("prior, channel", PAIRS)
def test_latex_pair_compiles(prior, channel, tmp_path):
    tex = tmp_path / "model.tex"
    tex.write_text(to_latex_document(document_of(prior, channel)))

    completed = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert completed.returncode == 0, completed.stdout[-2000:]
    assert (tmp_path / "model.pdf").stat().st_size > 0


def _verify_marks(prior, channel):
    return () if (prior, channel) in FAST_VERIFY_PAIRS else (pytest.mark.slow,)


@pytest.mark.parametrize("prior, channel",
                         [pytest.param(prior, channel, marks=_verify_marks(prior, channel)) for prior, channel in PAIRS])
def test_verify_pair_statuses(prior, channel, capsys):
    status = main(["verify", "--no-slides", "--json", "--prior", prior, "--channel", channel])
    records = {record["name"]: record for record in json.loads(capsys.readouterr().out)["checks"]}

    assert status == 0
    assert len(records) == 9
    assert all(record["status"] in (checks.HOLDS, checks.NOT_APPLICABLE) for record in records.values())
    assert all(record["detail"] for record in records.values() if record["status"] == checks.NOT_APPLICABLE)

    nishimori = records["Nishimori: E[d_omega f_out] = -E[f_out^2]"]
    if channel in REAL_LABEL_CHANNELS:
        assert nishimori["status"] == checks.NOT_APPLICABLE
        assert "real-valued labels" in nishimori["detail"]
        assert "q equation only" in records["SE maps = RS saddle-point equations"]["method"]
    else:
        assert nishimori["status"] == checks.HOLDS
        assert records["Phi_RS stationary at the SE fixed point"]["status"] == checks.HOLDS

    expected_gaussian = checks.HOLDS if prior == "gaussian" else checks.NOT_APPLICABLE
    assert records["Gaussian prior: q = qhat / (1 + qhat)"]["status"] == expected_gaussian
    expected_erf = checks.HOLDS if channel == "sign" else checks.NOT_APPLICABLE
    assert records["sign channel: one-dimensional qhat equation"]["status"] == expected_erf
    assert records["f_out = d_omega log Z_out"]["status"] == checks.HOLDS
    assert records["d_omega f_out integral form"]["status"] == checks.HOLDS


@pytest.fixture(scope="module")
def probit():
    return build_model("gaussian", "probit")


@pytest.fixture(scope="module")
def linear():
    return build_model("gaussian", "linear")


def test_df_out_integral_form_probit_numeric(probit):
    result = checks.check_df_out_integral_form(probit)

    assert result.holds
    assert result.method.startswith("numeric")


def test_df_out_integral_form_probit_wrong_fails(probit):
    # The -1/V term of the integral form dropped.
    wrong = {label: probit.output.df_out[label] + 1 / s.V for label in probit.channel.labels}

    assert checks.check_df_out_integral_form(probit, df_out=wrong).status == checks.FAILS


def test_f_out_linear_channel_value(linear):
    # Z_out(y, omega, V) = N(y; omega, V + Delta), so f_out = (y - omega) / (V + Delta). With
    # the catalog's default Delta = 0.1 that is (0.7 - 0.3) / (0.5 + 0.1) = 2/3.
    point = {s.omega: sp.Rational(3, 10), s.V: sp.Rational(1, 2), s.y: sp.Rational(7, 10)}

    assert abs(float(linear.output.f_out[s.y].subs(point)) - 2 / 3) < 1e-12
    assert checks.check_f_out_is_log_derivative(linear).holds


def test_f_out_linear_channel_wrong_fails(linear):
    wrong = linear.output.f_out[s.y].subs(s.omega, -s.omega)

    assert checks.check_f_out_is_log_derivative(linear, f_out=wrong).status == checks.FAILS


def test_se_q_map_integral_rademacher():
    # For w = +-1 the SE map is q = E_xi[tanh(qhat + sqrt(qhat) xi)^2], computed here by mpmath.
    import mpmath

    model = build_model("rademacher", "sign")
    with mpmath.workdps(30):
        qhat = mpmath.mpf(7) / 3
        expected = mpmath.quad(lambda xi: mpmath.tanh(qhat + mpmath.sqrt(qhat) * xi) ** 2 * mpmath.npdf(xi),
                               [-mpmath.inf, 0, mpmath.inf])

    value = checks.numeric_value(checks.se_q_map_integral(model), {s.qhat: sp.Rational(7, 3)})

    assert abs(value - expected) < mpmath.mpf(10) ** -20
