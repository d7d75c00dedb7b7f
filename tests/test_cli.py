"""End-to-end tests of the ``replica-tools`` command line.

Most tests call ``main([...])`` in this process on small grids (n = 200 or less, one or two
seeds). Four tests start real processes: through ``python -m replica_tools``, through the
installed console script, and two that send SIGTERM. Expected values come from formulas
computed here with SciPy, not from the package.
"""

import contextlib
import csv
import io
import json
import logging
import math
import os
import re
import subprocess
import signal
import sys
import time
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from scipy import integrate, special

from replica_tools.cli import curve
from replica_tools.cli.arguments import alpha_spec
from replica_tools.cli.main import build_parser, main
from replica_tools.solvers import learning_curve
from replica_tools.solvers.gamp import GampDivergenceError

SMALL_ALPHAS = [0.01, 0.5, 2.0, 6.0]
SMALL_GAMP_ALPHAS = [0.5, 2.0, 6.0]
SMALL_N = 200
SMALL_SEEDS = 2
THEORY_KEYS = ("alpha", "q", "qhat", "eps_bayes", "eps_gibbs")
OUTPUT_FILES = ("theory.csv", "gamp.csv", "gamp_runs.csv", "curve.png", "curve.json")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@contextlib.contextmanager
def _captured_output():
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        yield stdout, stderr


def run_main(argv):
    """Run ``main(argv)`` in this process and return (exit status, stdout, stderr)."""
    with _captured_output() as (stdout, stderr):
        status = main(argv)
    return status, stdout.getvalue(), stderr.getvalue()


def _alpha_argument(values):
    return ",".join(f"{value:g}" for value in values)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One ``curve --json`` run with GAMP on SMALL_ALPHAS, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("cli") / "small"
    argv = ["curve", "--alpha", _alpha_argument(SMALL_ALPHAS), "--gamp-alpha", _alpha_argument(SMALL_GAMP_ALPHAS),
            "--n", str(SMALL_N), "--seeds", str(SMALL_SEEDS), "--out", str(out), "--json"]
    status, stdout, stderr = run_main(argv)
    return {"status": status, "stdout": stdout, "stderr": stderr, "out": out}


@pytest.fixture(scope="module")
def small_result(small_run):
    assert small_run["status"] == 0, small_run["stderr"]
    return json.loads(small_run["stdout"])


# Independent reference formulas for the perceptron with Gaussian prior N(0, rho)


def reference_qhat(alpha, q, rho):
    """qhat = (2 alpha / V) E_xi[phi(a xi)^2 / Phi(a xi)] with V = rho - q and a = sqrt(q / V).

    This is alpha E[f_out^2] for the sign channel, summed over both labels, with the ratio taken
    in log space through log_ndtr.
    """
    variance = rho - q
    slope = math.sqrt(q / variance)

    def integrand(xi):
        gaussian_weight = math.exp(-0.5 * xi * xi) / math.sqrt(2 * math.pi)
        s = slope * xi
        log_ratio = -s * s - math.log(2 * math.pi) - special.log_ndtr(s)
        return gaussian_weight * math.exp(log_ratio)

    integral, _ = integrate.quad(integrand, -math.inf, math.inf, epsabs=0.0, epsrel=1e-11, limit=200)
    return 2 * alpha / variance * integral


def reference_q(qhat, rho):
    """q = rho^2 qhat / (1 + rho qhat), the overlap of the Gaussian prior N(0, rho) at qhat."""
    return rho * rho * qhat / (1 + rho * qhat)


def reference_bayes_constant():
    """C = 1 / (k pi), k = sqrt(2/pi) integral phi^2 / Phi, integrated in log space with log_ndtr."""
    def integrand(s):
        return math.exp(-s * s - math.log(2 * math.pi) - special.log_ndtr(s))

    integral, _ = integrate.quad(integrand, -math.inf, math.inf, epsabs=0.0, epsrel=1e-12, limit=200)
    return 1.0 / (math.sqrt(2 / math.pi) * integral * math.pi)


# Successful run: stdout, files, values


def test_json_run_exits_zero(small_run):
    assert small_run["status"] == 0, small_run["stderr"]


def test_json_stdout_is_only_json(small_run):
    decoded = json.loads(small_run["stdout"])

    assert isinstance(decoded, dict)


def test_json_has_documented_keys(small_result):
    for key in THEORY_KEYS + ("gamp_alpha", "gamp_eps_mean", "gamp_eps_sem", "gamp_runs", "output_dir"):
        assert key in small_result, key


def test_readme_documents_json_keys(small_result):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for key in small_result:
        assert f"`{key}`" in readme, key
    for key in small_result["table"]:
        assert f"`{key}`" in readme, key
    for key in small_result["gamp_runs"][0]:
        assert f"`{key}`" in readme, key


def test_json_arrays_match_alpha_grid(small_result):
    assert small_result["alpha"] == pytest.approx(SMALL_ALPHAS)
    for key in THEORY_KEYS:
        assert len(small_result[key]) == len(SMALL_ALPHAS), key


def test_gamp_arrays_match_gamp_alphas(small_result):
    assert small_result["gamp_alpha"] == pytest.approx(SMALL_GAMP_ALPHAS)
    assert len(small_result["gamp_eps_mean"]) == len(SMALL_GAMP_ALPHAS)
    assert len(small_result["gamp_eps_sem"]) == len(SMALL_GAMP_ALPHAS)


def test_gamp_progress_on_stderr(small_run):
    lines = small_run["stderr"].splitlines()
    progress = [line for line in lines if line.startswith("GAMP run")]

    assert len(progress) == len(SMALL_GAMP_ALPHAS) * SMALL_SEEDS
    assert "Traceback" not in small_run["stderr"]


def test_eps_bayes_is_arccos_of_overlap(small_result):
    q = np.array(small_result["q"])
    expected = np.arccos(np.sqrt(q / 1.0)) / np.pi

    assert np.array(small_result["eps_bayes"]) == pytest.approx(expected, abs=1e-12)


def test_eps_gibbs_is_arccos_of_overlap(small_result):
    q = np.array(small_result["q"])
    expected = np.arccos(q / 1.0) / np.pi

    assert np.array(small_result["eps_gibbs"]) == pytest.approx(expected, abs=1e-12)


def test_gibbs_error_exceeds_bayes_error(small_result):
    for bayes, gibbs in zip(small_result["eps_bayes"], small_result["eps_gibbs"]):
        assert gibbs > bayes


@pytest.mark.parametrize("index", range(len(SMALL_ALPHAS)))
def test_fixed_point_solves_rs_equations(small_result, index):
    alpha = small_result["alpha"][index]
    q = small_result["q"][index]
    qhat = small_result["qhat"][index]

    assert qhat == pytest.approx(reference_qhat(alpha, q, 1.0), rel=1e-6)
    assert q == pytest.approx(reference_q(qhat, 1.0), rel=1e-6)


def test_small_alpha_eps_near_half(small_result):
    # For alpha -> 0, q = 2 alpha / pi + O(alpha^2), so eps = 1/2 - sqrt(2 alpha / pi) / pi + O(alpha).
    alpha = small_result["alpha"][0]
    eps = small_result["eps_bayes"][0]

    assert alpha == pytest.approx(0.01)
    assert eps < 0.5
    assert eps == pytest.approx(0.5 - math.sqrt(2 * alpha / math.pi) / math.pi, abs=2e-3)


def test_asymptote_constant_matches_quadrature(small_result):
    assert small_result["asymptote_constant"] == pytest.approx(reference_bayes_constant(), rel=1e-9)


def test_gamp_mean_near_theory(small_result):
    # At n = 200 with two seeds, finite-size and sampling deviations stay well below 0.05.
    theory = dict(zip(small_result["alpha"], small_result["eps_bayes"]))
    for alpha, mean in zip(small_result["gamp_alpha"], small_result["gamp_eps_mean"]):
        assert mean is not None, alpha
        assert abs(mean - theory[alpha]) < 0.05, alpha


def test_gamp_sem_from_seed_errors(small_result):
    runs = small_result["gamp_runs"]
    for alpha, mean, sem in zip(small_result["gamp_alpha"], small_result["gamp_eps_mean"],
                                small_result["gamp_eps_sem"]):
        errors = [run["test_error"] for run in runs if run["alpha"] == alpha and run["status"] != "diverged"]
        assert len(errors) == SMALL_SEEDS
        assert mean == pytest.approx(sum(errors) / len(errors))
        assert sem == pytest.approx(abs(errors[0] - errors[1]) / 2)


def test_gamp_runs_recorded_per_seed(small_result):
    runs = small_result["gamp_runs"]

    assert len(runs) == len(SMALL_GAMP_ALPHAS) * SMALL_SEEDS
    assert {run["seed"] for run in runs} == set(range(SMALL_SEEDS))
    assert {run["status"] for run in runs} <= {"converged", "not_converged", "diverged"}


def test_output_files_exist(small_run):
    for name in OUTPUT_FILES:
        assert (small_run["out"] / name).is_file(), name
    assert [name for name in os.listdir(small_run["out"]) if name.endswith(".tmp")] == []


def test_output_json_equals_stdout(small_run, small_result):
    written = json.loads((small_run["out"] / "curve.json").read_text())

    assert written == small_result


def test_theory_csv_matches_json(small_run, small_result):
    with open(small_run["out"] / "theory.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))

    assert len(rows) == len(SMALL_ALPHAS)
    for key in THEORY_KEYS:
        assert [float(row[key]) for row in rows] == pytest.approx(small_result[key], rel=1e-15), key


def test_gamp_csv_matches_json(small_run, small_result):
    with open(small_run["out"] / "gamp.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))

    assert [float(row["alpha"]) for row in rows] == pytest.approx(small_result["gamp_alpha"])
    assert [float(row["eps_mean"]) for row in rows] == pytest.approx(small_result["gamp_eps_mean"])
    assert [float(row["eps_sem"]) for row in rows] == pytest.approx(small_result["gamp_eps_sem"])


def test_plot_is_readable_png(small_run):
    data = (small_run["out"] / "curve.png").read_bytes()
    image = matplotlib.image.imread(io.BytesIO(data), format="png")

    assert data.startswith(PNG_SIGNATURE)
    assert image.shape[1] > image.shape[0] > 100


def test_table_run_names_output_folder(tmp_path):
    out = tmp_path / "table"
    status, stdout, stderr = run_main(["curve", "--alpha", "0.5,2", "--n", "100", "--seeds", "1",
                                       "--out", str(out)])

    assert status == 0, stderr
    assert f"Output folder: {out}" in stdout
    assert "eps_Bayes" in stdout
    assert "GAMP mean" in stdout
    assert stderr.count("GAMP run") == 2
    assert (out / "curve.png").is_file()


def test_default_output_folder_in_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run_main(["curve", "--alpha", "0.5,2", "--no-gamp"])

    assert status == 0, stderr
    folders = list((tmp_path / "replica-tools-out").iterdir())
    assert len(folders) == 1
    assert folders[0].name.startswith("curve-")
    assert f"Output folder: {Path('replica-tools-out') / folders[0].name}" in stdout
    assert sorted(os.listdir(folders[0])) == ["curve.json", "curve.png", "theory.csv"]


def test_heading_names_gamp_alphas(tmp_path):
    # GAMP alphas outside the theory grid: the table rows are the GAMP alphas, solved there.
    status, stdout, stderr = run_main(["curve", "--alpha", "1,2", "--gamp-alpha", "5,0.01", "--n", "200",
                                       "--seeds", "1", "--out", str(tmp_path / "out")])
    lines = stdout.splitlines()
    rows = [line.split() for line in lines[lines.index("") + 3:] if line.strip()][:2]

    assert status == 0, stderr
    assert "2 alphas in [1, 2]" in lines[1]
    assert "The table shows it at the 2 GAMP alphas." in lines[1]
    assert [row[0] for row in rows] == ["0.01", "5"]


def test_single_alpha_heading_singular(tmp_path):
    status, stdout, stderr = run_main(["curve", "--alpha", "3", "--no-gamp", "--out", str(tmp_path / "out")])

    assert status == 0, stderr
    assert "Theory: state evolution at alpha = 3," in stdout
    assert "1 alphas" not in stdout


def test_unconverged_runs_one_warning(tmp_path):
    status, stdout, stderr = run_main(["curve", "--alpha", "3", "--n", "100", "--seeds", "2", "--max-iter", "1",
                                       "--json", "--out", str(tmp_path / "out")])
    result = json.loads(stdout)
    warnings = [line for line in stderr.splitlines() if "warning" in line]

    assert status == 0, stderr
    assert result["gamp_runs_not_converged"] == [2]
    assert len(warnings) == 1, stderr
    assert "2 of 2 GAMP runs did not converge within --max-iter 1" in warnings[0]
    assert "max_iter =" not in stderr
    assert stderr.count("1 iteration, ") == 2
    assert "1 iterations" not in stderr


def test_gamp_warning_filter_removed_after_run(tmp_path):
    status, stdout, stderr = run_main(["curve", "--alpha", "3", "--n", "100", "--seeds", "1", "--max-iter", "1",
                                       "--out", str(tmp_path / "out")])

    assert status == 0, stderr
    assert logging.getLogger("replica_tools.solvers.gamp").filters == []


def test_no_gamp_omits_gamp_keys(tmp_path):
    status, stdout, stderr = run_main(["curve", "--alpha", "0.5,2", "--no-gamp", "--json",
                                       "--out", str(tmp_path / "out")])
    result = json.loads(stdout)

    assert status == 0, stderr
    assert "gamp_eps_mean" not in result
    assert "gamp_eps_sem" not in result
    assert "GAMP run" not in stderr


def test_rho_scales_overlap(tmp_path):
    status, stdout, stderr = run_main(["curve", "--alpha", "1,3", "--rho", "2.5", "--no-gamp", "--json",
                                       "--out", str(tmp_path / "out")])
    result = json.loads(stdout)
    q = np.array(result["q"])

    assert status == 0, stderr
    assert result["rho"] == 2.5
    assert np.array(result["eps_bayes"]) == pytest.approx(np.arccos(np.sqrt(q / 2.5)) / np.pi, abs=1e-12)
    for alpha, q_value, qhat in zip(result["alpha"], result["q"], result["qhat"]):
        assert qhat == pytest.approx(reference_qhat(alpha, q_value, 2.5), rel=1e-6)


# GAMP divergence


def test_gamp_few_samples_stays_finite(tmp_path):
    # alpha = 0.01 at n = 200 gives m = 2 samples, so Sigma is large and R reaches the tens.
    status, stdout, stderr = run_main(["curve", "--alpha", "0.01", "--n", "200", "--seeds", "1", "--json",
                                       "--out", str(tmp_path / "out")])
    result = json.loads(stdout)

    assert status == 0, stderr
    assert result["gamp_runs"][0]["status"] != "diverged", result["gamp_runs"][0]["message"]
    assert 0.4 < result["gamp_eps_mean"][0] < 0.6


def _diverging_on_seed(diverging_seed):
    real_run_gamp = learning_curve.run_gamp

    def run_gamp(nm, alpha, n, seed, **options):
        if seed == diverging_seed:
            raise GampDivergenceError(f"GAMP diverged at iteration 3: test divergence for seed {seed}")
        return real_run_gamp(nm, alpha, n, seed, **options)

    return run_gamp


def test_diverged_seed_left_out_of_mean(tmp_path, monkeypatch):
    monkeypatch.setattr(learning_curve, "run_gamp", _diverging_on_seed(1))
    status, stdout, stderr = run_main(["curve", "--alpha", "1", "--n", "100", "--seeds", "2", "--json",
                                       "--out", str(tmp_path / "out")])
    result = json.loads(stdout)
    runs = result["gamp_runs"]

    assert status == 0, stderr
    assert [run["status"] for run in runs][1] == "diverged"
    assert "test divergence for seed 1" in runs[1]["message"]
    assert result["gamp_runs_used"] == [1]
    assert result["gamp_runs_diverged"] == [1]
    assert result["gamp_eps_mean"] == [pytest.approx(runs[0]["test_error"])]
    assert result["gamp_eps_sem"] == [None]
    assert "diverged" in stderr
    assert "Traceback" not in stderr


def test_all_seeds_diverged_gives_null_mean(tmp_path, monkeypatch):
    monkeypatch.setattr(learning_curve, "run_gamp", _diverging_on_seed(0))
    status, stdout, stderr = run_main(["curve", "--alpha", "1", "--n", "100", "--seeds", "1", "--json",
                                       "--out", str(tmp_path / "out")])
    result = json.loads(stdout)

    assert status == 0, stderr
    assert result["gamp_eps_mean"] == [None]
    assert result["gamp_runs_used"] == [0]
    assert (tmp_path / "out" / "curve.png").is_file()


# Bad input: exit 2, one line naming the flag, the value and the valid range, no files


ALPHA_RANGE = "[1e-6, 1e8]"
RHO_RANGE = "[1e-6, 1e6]"

BAD_INPUTS = [
    # (arguments, flag, value, valid range as written in the message)
    (["--alpha", "0"], "--alpha", "0", ALPHA_RANGE),
    (["--alpha", "-1"], "--alpha", "-1", ALPHA_RANGE),
    (["--alpha", "nan"], "--alpha", "nan", ALPHA_RANGE),
    (["--alpha", "inf"], "--alpha", "inf", ALPHA_RANGE),
    (["--alpha", "1e300"], "--alpha", "1e300", ALPHA_RANGE),
    (["--alpha", "1e-7"], "--alpha", "1e-7", ALPHA_RANGE),
    (["--alpha", "0.5,nan,2"], "--alpha", "nan", ALPHA_RANGE),
    (["--alpha=-0.5:2:10"], "--alpha", "-0.5", ALPHA_RANGE),
    (["--alpha", "0.25:inf:10"], "--alpha", "inf", ALPHA_RANGE),
    (["--alpha", "0.25:1e9:10"], "--alpha", "STOP = 1e9", ALPHA_RANGE),
    (["--alpha", "0.25:10"], "--alpha", "0.25:10", "START:STOP:NUM"),
    (["--alpha", "0.25:10:many"], "--alpha", "many", "[2, 100000]"),
    (["--alpha", "2:1:10"], "--alpha", "START = 2 must be < STOP = 1", "2:1:10"),
    (["--alpha", "1:1:5"], "--alpha", "START = 1 must be < STOP = 1", "1:1:5"),
    (["--alpha", "0.25:10:1"], "--alpha", "NUM = 1", "[2, 100000]"),
    (["--alpha", "1:5:1e9"], "--alpha", "NUM = 1e9", "[2, 100000]"),
    (["--alpha", "1:5:2.5"], "--alpha", "NUM = 2.5", "[2, 100000]"),
    (["--alpha", "abc"], "--alpha", "abc", ALPHA_RANGE),
    (["--alpha", "1,,2"], "--alpha", "1,,2", ALPHA_RANGE),
    (["--gamp-alpha", "0"], "--gamp-alpha", "0", ALPHA_RANGE),
    (["--gamp-alpha", "1e9"], "--gamp-alpha", "1e9", ALPHA_RANGE),
    (["--gamp-alpha", "0.001", "--n", "10"], "--gamp-alpha", "0.001", "m = round(alpha n) = 0"),
    (["--rho", "0"], "--rho", "0", RHO_RANGE),
    (["--rho", "-1"], "--rho", "-1", RHO_RANGE),
    (["--rho", "nan"], "--rho", "nan", RHO_RANGE),
    (["--rho", "inf"], "--rho", "inf", RHO_RANGE),
    (["--rho", "1e-300"], "--rho", "1e-300", RHO_RANGE),
    (["--rho", "1e7"], "--rho", "1e7", RHO_RANGE),
    (["--rho", "abc"], "--rho", "abc", RHO_RANGE),
    (["--n", "1"], "--n", "1", "[2, 100000000]"),
    (["--n", "0"], "--n", "0", "[2, 100000000]"),
    (["--n", "2.5"], "--n", "2.5", "[2, 100000000]"),
    (["--n", "100000000000"], "--n", "100000000000", "[2, 100000000]"),
    (["--seeds", "0"], "--seeds", "0", "[1, 10000]"),
    (["--seeds", "-3"], "--seeds", "-3", "[1, 10000]"),
    (["--seeds", "1000000000"], "--seeds", "1000000000", "[1, 10000]"),
    (["--first-seed", "-1"], "--first-seed", "-1", "[0, 4294967295]"),
    (["--first-seed", "4294967296"], "--first-seed", "4294967296", "[0, 4294967295]"),
    (["--damping", "1"], "--damping", "1", "[0, 1)"),
    (["--damping", "abc"], "--damping", "abc", "[0, 1)"),
    (["--max-iter", "0"], "--max-iter", "0", ">= 1"),
    (["--out="], "--out", "''", "folder path"),
]


@pytest.mark.parametrize("arguments, flag, value, valid_range", BAD_INPUTS,
                         ids=[" ".join(case[0]) for case in BAD_INPUTS])
def test_bad_input_exits_two(tmp_path, monkeypatch, arguments, flag, value, valid_range):
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run_main(["curve", *arguments, "--out", str(tmp_path / "out")])
    lines = stderr.splitlines()

    assert status == 2
    assert stdout == ""
    assert len(lines) == 1, stderr
    assert flag in lines[0]
    assert value in lines[0]
    assert valid_range in lines[0]
    assert "Traceback" not in stderr
    assert os.listdir(tmp_path) == []


def test_oversized_n_exits_before_work(tmp_path, monkeypatch):
    # At alpha = 1, X of n = 10^8 takes 8 * 10^16 bytes, beyond any machine's memory.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(curve, "compile_model", _failing_solver)
    status, stdout, stderr = run_main(["curve", "--alpha", "1", "--n", "100000000", "--out", str(tmp_path / "out")])
    lines = stderr.splitlines()

    assert status == 2
    assert stdout == ""
    assert len(lines) == 1, stderr
    assert "--n" in lines[0]
    assert "100000000" in lines[0]
    assert "physical memory" in lines[0]
    assert "largest n that fits" in lines[0]
    assert os.listdir(tmp_path) == []


def test_memory_message_names_largest_n(tmp_path, monkeypatch):
    # 16 GB at alpha = 1: X (8 n^2), one block (8 * 2^21) and 24 vectors of length 2n (384 n) fit
    # up to the largest root of 8 n^2 + 384 n + 8 * 2^21 = 16e9.
    memory = 16 * 10**9
    largest = math.floor((-384 + math.sqrt(384**2 + 32 * (memory - 8 * 2**21))) / 16)
    monkeypatch.setattr(curve, "physical_memory_bytes", lambda: memory)
    status, stdout, stderr = run_main(["curve", "--alpha", "0.5,1", "--n", "50000", "--out", str(tmp_path / "out")])

    assert largest == 44673
    assert status == 2
    assert "alpha = 1 " in stderr
    assert "20 GB" in stderr
    assert "16 GB of physical memory" in stderr
    assert f"The largest n that fits at this alpha is {largest}" in stderr


def test_largest_gamp_dimension_fits_exactly():
    memory = 10**9
    for alpha in (0.01, 0.3, 1.0, 7.0):
        largest = learning_curve.largest_gamp_dimension(alpha, memory)
        assert learning_curve.gamp_memory_bytes(alpha, largest) <= memory, alpha
        assert learning_curve.gamp_memory_bytes(alpha, largest + 1) > memory, alpha


def test_out_on_proc_cannot_be_created(tmp_path, monkeypatch):
    if not os.path.isdir("/proc/self"):
        pytest.skip("needs the Linux /proc file system")
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run_main(["curve", "--no-gamp", "--alpha", "1", "--out", "/proc/replica-tools-test"])
    lines = stderr.splitlines()

    assert status == 2
    assert len(lines) == 1, stderr
    assert "--out" in lines[0]
    assert "/proc/replica-tools-test" in lines[0]
    assert "cannot be created" in lines[0]
    assert "Traceback" not in stderr


def test_alpha_help_documents_spec():
    status, stdout, stderr = run_main(["curve", "--help"])
    help_text = " ".join(stdout.split())

    assert status == 0
    assert "NUM an integer in [2, 100000]" in help_text
    assert "START:STOP:NUM:lin" in help_text
    assert "START:STOP:NUM:log" in help_text
    assert "[1e-6, 1e8]" in help_text


def test_out_existing_file_rejected(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocker = tmp_path / "results.txt"
    blocker.write_text("not a folder")
    status, stdout, stderr = run_main(["curve", "--no-gamp", "--alpha", "1", "--out", str(blocker)])
    lines = stderr.splitlines()

    assert status == 2
    assert len(lines) == 1, stderr
    assert "--out" in lines[0]
    assert str(blocker) in lines[0]
    assert "not a folder" in lines[0]
    assert blocker.read_text() == "not a folder"
    assert os.listdir(tmp_path) == ["results.txt"]


def test_out_below_file_rejected(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocker = tmp_path / "results.txt"
    blocker.write_text("not a folder")
    status, stdout, stderr = run_main(["curve", "--no-gamp", "--alpha", "1", "--out", str(blocker / "run")])
    lines = stderr.splitlines()

    assert status == 2
    assert len(lines) == 1, stderr
    assert "--out" in lines[0]
    assert "cannot be created" in lines[0]
    assert os.listdir(tmp_path) == ["results.txt"]


def test_write_failure_removes_new_folder(tmp_path, monkeypatch):
    from replica_tools.reports import files

    real_write = files._write_temporary
    written = []

    def write_failing_third(path, data, **options):
        written.append(path.name)
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        return real_write(path, data, **options)

    monkeypatch.setattr(files, "_write_temporary", write_failing_third)
    out = tmp_path / "nested" / "out"
    status, stdout, stderr = run_main(["curve", "--no-gamp", "--alpha", "1,2", "--out", str(out)])
    lines = stderr.splitlines()

    assert status == 2
    assert stdout == ""
    assert len(lines) == 1, stderr
    assert "--out" in lines[0]
    assert "No space left on device" in lines[0]
    assert len(written) == 3
    assert os.listdir(tmp_path) == []


def test_write_failure_keeps_existing_folder(tmp_path, monkeypatch):
    from replica_tools.reports import files

    def write_failing(path, data, **options):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(files, "_write_temporary", write_failing)
    (tmp_path / "notes.txt").write_text("kept")
    status, stdout, stderr = run_main(["curve", "--no-gamp", "--alpha", "1", "--out", str(tmp_path)])

    assert status == 2
    assert "Permission denied" in stderr
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_missing_command_exits_two():
    status, stdout, stderr = run_main([])

    assert status == 2
    assert len(stderr.splitlines()) == 1
    assert "COMMAND" in stderr


def test_unknown_option_exits_two():
    status, stdout, stderr = run_main(["curve", "--alpah", "1"])

    assert status == 2
    assert len(stderr.splitlines()) == 1
    assert "--alpah" in stderr


# Unexpected errors


def _failing_solver(nm, alpha):
    raise RuntimeError("solver failed for this test")


def test_unexpected_error_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("REPLICA_TOOLS_DEBUG", raising=False)
    monkeypatch.setattr(curve, "solve_fixed_point", _failing_solver)
    status, stdout, stderr = run_main(["curve", "--no-gamp", "--alpha", "1", "--out", str(tmp_path / "out")])
    lines = stderr.splitlines()

    assert status == 1
    assert len(lines) == 1, stderr
    assert "solver failed for this test" in lines[0]
    assert "--debug" in lines[0]
    assert "Traceback" not in stderr
    assert os.listdir(tmp_path) == []


def test_numpy_warnings_summarized_once(tmp_path, monkeypatch):
    monkeypatch.delenv("REPLICA_TOOLS_DEBUG", raising=False)
    real_solver = curve.solve_fixed_point

    def solver_with_overflow(nm, alpha):
        np.exp(np.array([1000.0]))
        return real_solver(nm, alpha)

    monkeypatch.setattr(curve, "solve_fixed_point", solver_with_overflow)
    status, stdout, stderr = run_main(["curve", "--no-gamp", "--alpha", "1", "--out", str(tmp_path / "out")])
    lines = stderr.splitlines()

    assert status == 0, stderr
    assert len(lines) == 1, stderr
    assert "1 distinct warning hidden (overflow encountered in exp)" in lines[0]
    assert "--debug" in lines[0]


def test_debug_flag_raises_error(tmp_path, monkeypatch):
    monkeypatch.setattr(curve, "solve_fixed_point", _failing_solver)

    with pytest.raises(RuntimeError, match="solver failed for this test"):
        run_main(["curve", "--debug", "--no-gamp", "--alpha", "1", "--out", str(tmp_path / "out")])


def test_debug_variable_raises_error(tmp_path, monkeypatch):
    monkeypatch.setenv("REPLICA_TOOLS_DEBUG", "1")
    monkeypatch.setattr(curve, "solve_fixed_point", _failing_solver)

    with pytest.raises(RuntimeError, match="solver failed for this test"):
        run_main(["curve", "--no-gamp", "--alpha", "1", "--out", str(tmp_path / "out")])


# Argument parsing


def test_help_exits_zero():
    status, stdout, stderr = run_main(["curve", "--help"])

    assert status == 0
    assert "--alpha" in stdout
    assert "--no-gamp" in stdout


def test_alpha_range_is_geometric():
    values = alpha_spec("0.25:16:4").values

    assert values == pytest.approx([0.25, 1.0, 4.0, 16.0], rel=1e-12)


def test_alpha_range_lin_is_linear():
    values = alpha_spec("1:4:4:lin").values

    assert values == pytest.approx([1.0, 2.0, 3.0, 4.0], rel=1e-12)


def test_alpha_list_sorted_without_duplicates():
    spec = alpha_spec("2, 0.5,2,1")

    assert spec.explicit
    assert list(spec.values) == [0.5, 1.0, 2.0]


def test_default_gamp_alphas_spread_over_grid():
    args = build_parser().parse_args(["curve"])
    settings = curve.resolve_settings(args)

    assert len(settings.alpha) == 200
    assert settings.alpha[0] == pytest.approx(0.25)
    assert settings.alpha[-1] == pytest.approx(10.0)
    assert len(settings.gamp_alpha) == 10
    assert settings.gamp_alpha[0] == settings.alpha[0]
    assert settings.gamp_alpha[-1] == settings.alpha[-1]
    assert set(settings.gamp_alpha) <= set(settings.alpha)


def test_short_alpha_list_is_gamp_grid():
    args = build_parser().parse_args(["curve", "--alpha", "4,0.5,2"])
    settings = curve.resolve_settings(args)

    assert list(settings.gamp_alpha) == [0.5, 2.0, 4.0]
    assert list(settings.alpha) == [0.5, 2.0, 4.0]


def test_long_alpha_list_gamp_subset():
    values = [0.5 * k for k in range(1, 21)]
    args = build_parser().parse_args(["curve", "--alpha", _alpha_argument(values)])
    settings = curve.resolve_settings(args)

    assert len(settings.gamp_alpha) == 10
    assert set(settings.gamp_alpha) <= set(settings.alpha)


def test_gamp_alpha_flag_overrides_grid():
    args = build_parser().parse_args(["curve", "--gamp-alpha", "3,1"])
    settings = curve.resolve_settings(args)

    assert list(settings.gamp_alpha) == [1.0, 3.0]


def test_seeds_are_consecutive():
    args = build_parser().parse_args(["curve", "--seeds", "3", "--first-seed", "5"])
    settings = curve.resolve_settings(args)

    assert settings.seeds == (5, 6, 7)


# Real processes


def _environment_without_debug():
    environment = dict(os.environ)
    environment.pop("REPLICA_TOOLS_DEBUG", None)
    return environment


def test_python_module_runs_curve(tmp_path):
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "replica_tools", "curve", "--alpha", "0.5,2", "--n", "100", "--seeds", "1",
         "--out", str(out), "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=_environment_without_debug(), timeout=600,
    )
    result = json.loads(completed.stdout)

    assert completed.returncode == 0, completed.stderr
    assert result["alpha"] == [0.5, 2.0]
    assert len(result["gamp_eps_mean"]) == 2
    assert (out / "curve.png").is_file()


def test_console_script_rejects_bad_rho(tmp_path):
    script = Path(sys.executable).parent / "replica-tools"
    completed = subprocess.run(
        [str(script), "curve", "--rho", "-1", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, env=_environment_without_debug(), timeout=600,
    )
    lines = completed.stderr.splitlines()

    assert script.is_file()
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(lines) == 1, completed.stderr
    assert "--rho" in lines[0]
    assert "Traceback" not in completed.stderr
    assert os.listdir(tmp_path) == []


# SIGTERM

# Runs the command with a file writer that creates MARKER after the first temporary file and
# then sleeps, so that the test can send SIGTERM while the output files are being written.
SLOW_WRITER_SCRIPT = """
import pathlib, sys, time
from replica_tools.reports import files

real_write = files._write_temporary

def write_then_wait(path, data, **options):
    temporary = real_write(path, data, **options)
    pathlib.Path(sys.argv[1]).write_text(str(temporary))
    time.sleep(60)
    return temporary

files._write_temporary = write_then_wait
from replica_tools.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_while_writing_removes_files(tmp_path):
    marker = tmp_path / "marker"
    out = tmp_path / "nested" / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER_SCRIPT, str(marker), "curve", "--alpha", "1,2", "--no-gamp",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_environment_without_debug(),
    )
    try:
        assert _wait_for(marker.exists, timeout=120), "no temporary file was written"
        temporary = Path(marker.read_text())
        assert temporary.exists()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()

    assert process.returncode == 143
    assert stdout == ""
    assert stderr.splitlines() == ["replica-tools: terminated"]
    assert not temporary.exists()
    assert os.listdir(tmp_path) == ["marker"]


# Extends SLOW_WRITER_SCRIPT: removing a temporary file first creates the marker given as
# argv[1] + ".cleanup" and sleeps, so that a second signal arrives during the cleanup.
SLOW_CLEANUP_SCRIPT = SLOW_WRITER_SCRIPT.replace("from replica_tools.cli.main import main", """
real_remove = files._remove_quietly

def wait_then_remove(path):
    pathlib.Path(sys.argv[1] + ".cleanup").write_text("")
    time.sleep(1)
    real_remove(path)

files._remove_quietly = wait_then_remove
from replica_tools.cli.main import main""")


def test_second_sigint_during_cleanup_is_ignored(tmp_path):
    marker = tmp_path / "marker"
    cleanup_marker = tmp_path / "marker.cleanup"
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_CLEANUP_SCRIPT, str(marker), "curve", "--alpha", "1,2", "--no-gamp",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_environment_without_debug(),
    )
    try:
        assert _wait_for(marker.exists, timeout=120), "no temporary file was written"
        temporary = Path(marker.read_text())
        process.send_signal(signal.SIGINT)
        assert _wait_for(cleanup_marker.exists, timeout=60), "the cleanup did not start"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()

    assert process.returncode == 130
    assert stderr.splitlines() == ["replica-tools: interrupted"]
    assert not temporary.exists()
    assert sorted(os.listdir(tmp_path)) == ["marker", "marker.cleanup"]


def test_sigterm_during_gamp_exits_143(tmp_path):
    script = Path(sys.executable).parent / "replica-tools"
    out = tmp_path / "out"
    process = subprocess.Popen(
        [str(script), "curve", "--alpha", "0.5,1,2,4", "--n", "1000", "--seeds", "50", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_environment_without_debug(),
    )
    try:
        # The first progress line comes a few seconds after the start, once the theory is done.
        first_line = process.stderr.readline()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()

    assert first_line.startswith("GAMP run 1/200"), first_line
    assert process.returncode == 143, stderr
    assert stdout == ""
    assert stderr.splitlines()[-1] == "replica-tools: terminated"
    assert "Traceback" not in stderr
    assert os.listdir(tmp_path) == []


# Default run


@pytest.mark.slow
def test_default_curve_agrees_with_theory(tmp_path):
    status, stdout, stderr = run_main(["curve", "--json", "--out", str(tmp_path / "out")])
    result = json.loads(stdout)
    theory_at_gamp = np.interp(result["gamp_alpha"], result["alpha"], result["eps_bayes"])

    assert status == 0, stderr
    assert len(result["alpha"]) == 200
    assert len(result["gamp_alpha"]) == 10
    assert all(count == 4 for count in result["gamp_runs_used"])
    for alpha, mean, sem, theory in zip(result["gamp_alpha"], result["gamp_eps_mean"], result["gamp_eps_sem"],
                                        theory_at_gamp):
        # Allow four standard errors plus a finite-size margin of 0.01 at n = 1000.
        assert abs(mean - theory) < 4 * sem + 0.01, alpha
    alpha_max = result["alpha"][-1]
    assert result["eps_bayes"][-1] * alpha_max / result["asymptote_constant"] == pytest.approx(1.0, abs=0.03)


# ---------------------------------------------------------------------------------------------
# curve with --prior and --channel


def _curve_json(tmp_path, *arguments):
    status, stdout, stderr = run_main(["curve", "--json", "--quiet", "--out", str(tmp_path), *arguments])
    assert status == 0, stderr
    return json.loads(stdout)


@pytest.fixture(scope="module")
def rademacher_curve(tmp_path_factory):
    out = tmp_path_factory.mktemp("rademacher")
    return _curve_json(out, "--prior", "rademacher", "--alpha", "0.5,1,1.3,1.4,1.6,2", "--no-gamp")


def test_rademacher_curve_marks_both_transitions(rademacher_curve):
    assert rademacher_curve["alpha_it"] == pytest.approx(1.245, abs=2e-3)
    assert rademacher_curve["alpha_alg"] == pytest.approx(1.49, abs=5e-3)


def test_rademacher_curve_equilibrium_is_perfect_beyond_alpha_it(rademacher_curve):
    eps = dict(zip(rademacher_curve["alpha"], rademacher_curve["eps_bayes"]))
    assert eps[0.5] > 0.2
    assert eps[1.3] == 0.0
    assert eps[2.0] == 0.0
    assert rademacher_curve["equilibrium_branch"][2] == "informed"


def test_rademacher_curve_gamp_branch_stuck_below_alpha_alg(rademacher_curve):
    gamp_branch = dict(zip(rademacher_curve["alpha"], rademacher_curve["gamp_branch_eps_bayes"]))
    assert gamp_branch[1.3] > 0.1
    assert gamp_branch[1.4] > 0.1
    assert gamp_branch[1.6] == 0.0
    assert rademacher_curve["branch_count"] == [2, 2, 2, 2, 1, 1]


def test_rademacher_curve_has_no_asymptote(rademacher_curve, tmp_path):
    assert rademacher_curve["asymptote_constant"] is None
    assert "q(qhat)" in rademacher_curve["numeric_objects"]


def test_gauss_bernoulli_curve_has_one_branch(tmp_path):
    result = _curve_json(tmp_path, "--prior", "gauss-bernoulli", "--rho", "0.3", "--alpha", "0.5,2,8", "--no-gamp")
    assert result["rho"] == pytest.approx(0.3)
    assert result["alpha_it"] is None
    assert result["alpha_alg"] is None
    assert result["branch_count"] == [1, 1, 1]
    assert result["eps_bayes"] == pytest.approx(result["gamp_branch_eps_bayes"], rel=1e-10)


def test_binary_curve_runs_damped_gamp(tmp_path):
    result = _curve_json(tmp_path, "--prior", "binary", "--p", "0.3", "--alpha", "0.5,2", "--n", "200",
                         "--seeds", "1")
    assert result["gamp_damping"] == pytest.approx(0.3)
    assert result["gamp_runs_diverged"] == [0, 0]
    # At alpha = 2 GAMP and the equilibrium both reach the teacher.
    assert result["eps_bayes"][1] == 0.0
    assert result["gamp_eps_mean"][1] < 0.02


def test_rho_still_sets_the_gaussian_variance(tmp_path):
    result = _curve_json(tmp_path, "--rho", "4", "--alpha", "1,2", "--no-gamp")
    assert result["rho"] == 4.0
    assert "prior" not in result
    assert result["asymptote_constant"] == pytest.approx(0.4417, abs=1e-4)


@pytest.mark.parametrize("arguments, message", [
    (["--prior", "binary", "--p", "1"], r"p = 1 is invalid for prior binary: .* \[0.001, 0.999\]"),
    (["--prior", "gauss-bernoulli", "--rho", "2"], r"rho = 2 is invalid for prior gauss-bernoulli: .* \[0.001, 1\]"),
    (["--prior", "rademacher", "--rho", "2"], r"--rho does not apply to prior rademacher"),
    (["--prior", "nothing"], r"unknown prior 'nothing'"),
])
def test_curve_model_flags_reject_bad_input(tmp_path, arguments, message):
    status, stdout, stderr = run_main(["curve", "--no-gamp", "--out", str(tmp_path / "out"), *arguments])
    assert status == 2
    assert stderr.count("\n") == 1
    assert re.search(message, stderr)
    assert not (tmp_path / "out").exists()
