"""End-to-end tests of the ``replica-tools`` command line.

Most tests call ``main([...])`` in this process on small grids (n = 200 or less, one or two
seeds). Two tests start real processes, through ``python -m replica_tools`` and through the
installed console script. Expected values come from formulas computed here with SciPy, not
from the package.
"""

import contextlib
import csv
import io
import json
import math
import os
import subprocess
import sys
import types
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from scipy import integrate, special

from replica_tools.cli import curve
from replica_tools.cli.arguments import alpha_spec
from replica_tools.cli.main import build_parser, main
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


def test_asymptote_uses_solver_function(monkeypatch):
    fake_module = types.ModuleType(curve.ASYMPTOTICS_MODULE)
    fake_module.bayes_constant = lambda: 0.25
    monkeypatch.setitem(sys.modules, curve.ASYMPTOTICS_MODULE, fake_module)
    constant, source = curve.bayes_asymptote_constant()

    assert constant == 0.25
    assert source == f"{curve.ASYMPTOTICS_MODULE}.bayes_constant"


def test_asymptote_quadrature_without_solver(monkeypatch):
    # None in sys.modules makes the import raise ModuleNotFoundError, as for a missing module.
    monkeypatch.setitem(sys.modules, curve.ASYMPTOTICS_MODULE, None)
    constant, source = curve.bayes_asymptote_constant()

    assert constant == pytest.approx(reference_bayes_constant(), rel=1e-9)
    assert source.endswith("bayes_constant_by_quadrature")


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
    real_run_gamp = curve.run_gamp

    def run_gamp(nm, alpha, n, seed, **options):
        if seed == diverging_seed:
            raise GampDivergenceError(f"GAMP diverged at iteration 3: test divergence for seed {seed}")
        return real_run_gamp(nm, alpha, n, seed, **options)

    return run_gamp


def test_diverged_seed_left_out_of_mean(tmp_path, monkeypatch):
    monkeypatch.setattr(curve, "run_gamp", _diverging_on_seed(1))
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
    monkeypatch.setattr(curve, "run_gamp", _diverging_on_seed(0))
    status, stdout, stderr = run_main(["curve", "--alpha", "1", "--n", "100", "--seeds", "1", "--json",
                                       "--out", str(tmp_path / "out")])
    result = json.loads(stdout)

    assert status == 0, stderr
    assert result["gamp_eps_mean"] == [None]
    assert result["gamp_runs_used"] == [0]
    assert (tmp_path / "out" / "curve.png").is_file()


# Bad input: exit 2, one line naming the flag, the value and the valid range, no files


BAD_INPUTS = [
    # (arguments, flag, value, valid range as written in the message)
    (["--alpha", "0"], "--alpha", "0", "> 0"),
    (["--alpha", "-1"], "--alpha", "-1", "> 0"),
    (["--alpha", "nan"], "--alpha", "nan", "finite"),
    (["--alpha", "inf"], "--alpha", "inf", "finite"),
    (["--alpha", "0.5,nan,2"], "--alpha", "nan", "finite"),
    (["--alpha=-0.5:2:10"], "--alpha", "-0.5", "> 0"),
    (["--alpha", "0.25:inf:10"], "--alpha", "inf", "finite"),
    (["--alpha", "0.25:10"], "--alpha", "0.25:10", "START:STOP:NUM"),
    (["--alpha", "0.25:10:many"], "--alpha", "many", "START:STOP:NUM"),
    (["--alpha", "2:1:10"], "--alpha", "2:1:10", "START must be < STOP"),
    (["--alpha", "0.25:10:1"], "--alpha", "NUM = 1", "[2, 100000]"),
    (["--alpha", "abc"], "--alpha", "abc", "> 0"),
    (["--alpha", "1,,2"], "--alpha", "1,,2", "> 0"),
    (["--gamp-alpha", "0"], "--gamp-alpha", "0", "> 0"),
    (["--gamp-alpha", "0.001", "--n", "10"], "--gamp-alpha", "0.001", "m = round(alpha n) = 0"),
    (["--rho", "0"], "--rho", "0", "> 0"),
    (["--rho", "-1"], "--rho", "-1", "> 0"),
    (["--rho", "nan"], "--rho", "nan", "finite"),
    (["--rho", "inf"], "--rho", "inf", "finite"),
    (["--n", "1"], "--n", "1", ">= 2"),
    (["--n", "0"], "--n", "0", ">= 2"),
    (["--n", "2.5"], "--n", "2.5", ">= 2"),
    (["--seeds", "0"], "--seeds", "0", ">= 1"),
    (["--seeds", "-3"], "--seeds", "-3", ">= 1"),
    (["--damping", "1"], "--damping", "1", "[0, 1)"),
    (["--max-iter", "0"], "--max-iter", "0", ">= 1"),
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

    def write_failing_third(path, data):
        written.append(path.name)
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        return real_write(path, data)

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

    def write_failing(path, data):
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
