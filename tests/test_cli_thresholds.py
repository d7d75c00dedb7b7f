"""The ``replica-tools thresholds`` command: text and JSON output, and invalid input."""

import contextlib
import io
import json
import re

import pytest

from replica_tools.cli import thresholds as thresholds_command
from replica_tools.cli.main import main
from replica_tools.solvers.thresholds import Thresholds


def run_main(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    return status, stdout.getvalue(), stderr.getvalue()


@pytest.mark.slow
def test_rademacher_json_gives_both_thresholds():
    status, stdout, stderr = run_main(["thresholds", "--prior", "rademacher", "--json"])
    assert status == 0, stderr
    result = json.loads(stdout)
    assert result["alpha_it"] == pytest.approx(1.245, abs=2e-3)
    assert result["alpha_alg"] == pytest.approx(1.49, abs=5e-3)
    assert result["alpha_it"] < result["alpha_alg"]
    assert result["perfect_branch"] is True
    assert "q(qhat)" in result["numeric_objects"]


def test_gaussian_prior_reports_no_threshold_in_text():
    status, stdout, _ = run_main(["thresholds", "--prior", "gaussian", "--rho", "2"])
    assert status == 0
    assert "alpha_alg (GAMP from a random start reaches the informed branch): none" in stdout
    assert "alpha_IT (the informed branch becomes the equilibrium): none" in stdout


def test_gaussian_prior_reports_null_in_json():
    status, stdout, _ = run_main(["thresholds", "--json"])
    assert status == 0
    result = json.loads(stdout)
    assert result["alpha_alg"] is None
    assert result["alpha_it"] is None
    assert "no fold" in result["reasons"]["alpha_alg"]


@pytest.mark.parametrize("argv, message", [
    (["--prior", "binary", "--p", "0"], r"p = 0 is invalid for prior binary: .* must be in \[0.001, 0.999\]"),
    (["--prior", "binary", "--p", "0.9999999999"], r"p = 0.9999999999 is invalid .* \[0.001, 0.999\]"),
    (["--channel", "sign-flip", "--eta", "0.4999999"], r"eta = 0.4999999 is invalid .* \[0, 0.49\]"),
    (["--channel", "probit", "--sigma", "1e-7"], r"sigma = 1e-07 is invalid .* \[1e-06, 1000\]"),
    (["--channel", "linear", "--Delta", "1e300"], r"Delta = 1e\+300 is invalid .* \[1e-06, 1000\]"),
    (["--prior", "gaussian", "--rho", "1e-300"], r"rho = 1e-300 is invalid .* \[1e-06, 1e\+06\]"),
    (["--prior", "binary", "--p", "1.5"], r"p = 1.5 is invalid for prior binary"),
    (["--prior", "gauss-bernoulli", "--rho", "0"], r"rho = 0 is invalid .* must be in \[0.001, 1\]"),
    (["--prior", "gauss-bernoulli", "--rho", "1.01"], r"rho = 1.01 is invalid"),
    (["--prior", "rademacher", "--p", "0.3"], r"--p does not apply to prior rademacher"),
    (["--prior", "no-such"], r"unknown prior 'no-such'"),
    (["--prior", "binary", "--p", "abc"], r"invalid value 'abc'"),
])
def test_bad_input_exits_two_in_one_line(argv, message):
    status, stdout, stderr = run_main(["thresholds", *argv])
    assert status == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert stderr.startswith("replica-tools thresholds: error: ")
    assert re.search(message, stderr)


@pytest.mark.slow
def test_check_prints_both_routes_and_differences():
    status, stdout, stderr = run_main(["thresholds", "--prior", "rademacher", "--check", "--json"])
    assert status == 0, stderr
    result = json.loads(stdout)
    assert result["alpha_alg_difference"] < 1e-7
    assert result["alpha_it_difference"] < 1e-7
    assert result["alpha_alg_check"] == pytest.approx(result["alpha_alg"], abs=1e-7)


@pytest.mark.slow
def test_sign_flip_check_gives_agreeing_routes():
    status, stdout, stderr = run_main(["thresholds", "--prior", "rademacher", "--channel", "sign-flip",
                                       "--check", "--json"])
    assert status == 0, stderr
    result = json.loads(stdout)
    # The equilibrium switches to the perfect point where the uninformative q reaches about 0.75,
    # well above the lower end 1e-3 of the search.
    assert 1 < result["alpha_it"] < result["alpha_alg"]
    assert result["alpha_it_difference"] < 1e-8 * result["alpha_it"]


def test_disagreeing_routes_exit_one_without_a_number(monkeypatch):
    def disagreeing(numpy_model, check=False):
        return Thresholds(alpha_alg=1.5, alpha_alg_check=1.5, alpha_it=1e-3, alpha_it_check=1.2,
                          branch_count=2)

    monkeypatch.setattr(thresholds_command, "locate_thresholds", disagreeing)
    status, stdout, stderr = run_main(["thresholds", "--prior", "rademacher", "--check"])
    assert status == 1
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert "two routes to alpha_IT disagree (0.001 and 1.2" in stderr


def test_failed_search_exits_one_in_one_line(monkeypatch):
    def failing(numpy_model, check=False):
        raise RuntimeError("state evolution did not converge within 20000 steps at alpha = 1.2")

    monkeypatch.setattr(thresholds_command, "locate_thresholds", failing)
    status, stdout, stderr = run_main(["thresholds", "--prior", "rademacher"])
    assert status == 1
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert "the threshold search failed for this model: state evolution did not converge" in stderr
