"""The audit's verdicts on formulas transcribed from lecture slides, each known by a hand calculation."""

import json

import pytest

from replica_tools.cli.main import main
from replica_tools.reports.audit import CLAIMS, run_audit

# By hand: with P_0 = N(0, 1) the tilted measure P_0(w) N(w; R, Sigma) has mean R/(1+Sigma) and
# variance Sigma/(1+Sigma); Phi(x) = (1 + erf(x/sqrt 2))/2; the SE carries a factor alpha.
EXPECTED = {
    "Z_w replica form": True,
    "f_w replica form": True,
    "relaxed BP mean": True,
    "relaxed BP variance": False,
    "GAMP summary update": False,
    "d_omega f_out integral form": True,
    "Z_out with label noise": False,
    "f_out with label noise": True,
    "SE update of qhat": False,
    "q of qhat": True,
    "qhat erf form": True,
    "generalization error": True,
}


@pytest.fixture(scope="module")
def verdicts():
    return {claim.name: verdict for claim, verdict in run_audit()}


def test_every_claim_has_expectation():
    assert {claim.name for claim in CLAIMS} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_audit_verdict(verdicts, name):
    assert verdicts[name].holds is EXPECTED[name], verdicts[name].detail


def test_missing_alpha_ratio_reported(verdicts):
    assert "ratio 3.0" in verdicts["SE update of qhat"].detail


def test_audit_json_output(capsys):
    assert main(["audit", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [record["name"] for record in records] == [claim.name for claim in CLAIMS]
    assert sum(not record["holds"] for record in records) == 4


def test_audit_text_labels_match_json(capsys):
    assert main(["audit"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]

    assert sum(line.startswith("statement: ") for line in lines) == len(CLAIMS)
    assert sum(line.startswith("detail: ") for line in lines) == len(CLAIMS)
    assert not any(line.startswith(("claim: ", "check: ")) for line in lines)


def test_formulas_print_latex(capsys):
    assert main(["formulas"]) == 0
    output = capsys.readouterr().out
    assert r"Z_{\mathrm{out}}\left(1, \omega, V\right) = H\left(- \frac{\omega}{\sqrt{V}}\right)" in output
    assert r"f_w(\Sigma, R) = \frac{R \rho}{\Sigma + \rho}" in output
