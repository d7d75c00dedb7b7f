"""The slide audit's verdicts, equation by equation, each worked out by hand.

By hand: with P_0 = N(0, 1) the tilted measure P_0(w) N(w; R, Sigma) has mean R/(1+Sigma) and
variance Sigma/(1+Sigma); Phi(x) = (1 + erf(x/sqrt 2))/2; the SE carries a factor alpha; the
Onsager term of GAMP takes the V computed from the same v; a reparametrized z with Cov(z, z_hat)
= s_m has Var(z) = s_m^2/s_hat + (what multiplies x2)^2, which must be sigma_w*, not sigma_w*^2.
"""

import json
from pathlib import Path

import pytest

from replica_tools.cli.main import main
from replica_tools.reports import audit

DOCS = Path(__file__).resolve().parent.parent / "docs" / "slides-audit.md"

EXPECTED = {
    "S2.1": True,   # y = sign z is Theta(y z)
    "S2.2": False,  # the square sits on sigma_w* instead of sigma_{w*w_hat}
    "S2.3": True,
    "S3.1": True,
    "S3.2": True,
    "S3.3": True,
    "S3.4": True,
    "S3.5": True,
    "S3.6": True,
    "S3.7": True,
    "S3.8": False,  # 1/(1+Sigma) is d_R f_w, the variance is Sigma/(1+Sigma)
    "S4.1": True,
    "S4.2": False,  # V^t instead of V^{t+1} in the Onsager term
    "S4.3": True,
    "S4.4": True,
    "S4.5": False,  # Sigma and R swapped
    "S4.6": True,
    "S4.7": True,
    "S4.8": True,
    "S4.9": True,
    "S4.10": False,  # the factor alpha is missing
    "S4.11a": True,
    "S4.11b": True,
    "S5.1": True,
    "S6.1": True,
    "S6.2": True,
    "S6.3": True,
    "S6.4": True,
    "S6.5": True,
    "S6.6": True,
    "S7.1": False,  # the first term lacks the factor 1/2
    "S7.2": True,
    "S7.3": True,
    "S7.4": True,
    "S7.5": True,
    "S7.6": True,
}


@pytest.fixture(scope="module")
def claims():
    return audit.load_claims()


@pytest.fixture(scope="module")
def results(claims):
    return audit.run_audit(claims)


@pytest.fixture(scope="module")
def verdicts(results):
    return {claim.label: verdict for claim, verdict in results}


def test_every_equation_has_expectation(claims):
    assert [claim.label for claim in claims] == list(EXPECTED)


@pytest.mark.parametrize("label", list(EXPECTED))
def test_audit_verdict(verdicts, label):
    assert verdicts[label].holds is EXPECTED[label], verdicts[label].detail


@pytest.mark.parametrize("label", [label for label, holds in EXPECTED.items() if not holds])
def test_differing_equation_has_fix_and_point(verdicts, label):
    assert verdicts[label].corrected, verdicts[label].detail
    assert verdicts[label].point, verdicts[label].detail


def test_missing_alpha_is_factor_two(verdicts):
    # At alpha = 2 the slide's qhat is half the derived one.
    assert "0.7919252456 (slide) against 1.583850491 (derived)" in verdicts["S4.10"].point


def test_missing_half_in_noisy_Z_out(verdicts):
    assert "(1 + erf(omega/sqrt(2V))) / 2" in verdicts["S7.1"].corrected


def test_transcription_file_lists_every_label(claims):
    text = (Path(__file__).resolve().parent.parent / "derivations" / "slides_transcription.md").read_text(encoding="utf-8")
    for claim in claims:
        assert f"**{claim.label} " in text or f"**{claim.label[:-1]} " in text, claim.label


def test_docs_page_matches_audit(results):
    # The summary and the verdict table of docs/slides-audit.md must be those of a fresh run. The
    # sections below them quote measured residuals, which may move in their last digits.
    generated = audit.to_markdown(results).split("\n## ")[0]
    assert DOCS.read_text(encoding="utf-8").split("\n## ")[0] == generated


@pytest.fixture
def cached_audit(monkeypatch, results):
    """Let the commands below reuse the module's audit run: they test the output, not the checks."""
    monkeypatch.setattr(audit, "run_audit", lambda claims: results)


def test_verify_prints_one_line_per_equation(capsys, cached_audit):
    assert main(["verify", "--no-checks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    equation_lines = [line for line in lines if line.strip().split(" ")[0] in EXPECTED]
    assert len(equation_lines) == len(EXPECTED)
    assert sum(line.rstrip().endswith(": holds") for line in equation_lines) == sum(EXPECTED.values())
    assert f"{len(EXPECTED)} slide equations: {sum(EXPECTED.values())} hold" in lines[-1]


def test_audit_alias_json(capsys, cached_audit):
    assert main(["audit", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [record["label"] for record in records] == list(EXPECTED)
    assert [record["holds"] for record in records] == list(EXPECTED.values())


def test_verify_writes_markdown(tmp_path, capsys, cached_audit):
    target = tmp_path / "audit.md"
    assert main(["verify", "--no-checks", "--json", "--markdown", str(target)]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["checks"] == []
    assert target.read_text(encoding="utf-8").startswith("# Audit of the lecture slides' equations")
    assert list(tmp_path.iterdir()) == [target]


def test_missing_transcription_is_usage_error(tmp_path, monkeypatch, capsys):
    def missing(start=None):
        raise audit.TranscriptionNotFoundError("not found here")

    monkeypatch.setattr(audit, "find_transcription", missing)
    assert main(["verify", "--no-checks"]) == 2
    assert "not found here" in capsys.readouterr().err


def test_empty_markdown_path_is_usage_error(capsys):
    assert main(["verify", "--no-checks", "--markdown", ""]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "replica-tools verify: error: argument --markdown: invalid value '': it names no file"
    ]


def test_derivation_script_writes_page(tmp_path, capsys, monkeypatch, results):
    import slides_audit

    monkeypatch.setattr(slides_audit, "run_audit", lambda claims: results)
    run_script = slides_audit.main
    target = tmp_path / "page.md"
    assert run_script(["--write", str(target)]) == 0
    assert f"{len(EXPECTED)} equations: {sum(EXPECTED.values())} hold" in capsys.readouterr().out
    assert target.read_text(encoding="utf-8").split("\n## ")[0] == DOCS.read_text(encoding="utf-8").split("\n## ")[0]
