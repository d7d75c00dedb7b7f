"""Finite-size scaling: the weighted 1 / n fit, its error bars, and GAMP at alpha = 2 against SE."""

import contextlib
import io
import json
import math

import numpy as np
import pytest
from scipy.special import erfinv

from replica_tools.cli.main import main
from replica_tools.solvers.fss import finite_size_scaling, fit_finite_size, geometric_dimensions

# z of the two-sided 95% interval, computed here independently of the command's constant.
Z_95 = float(np.sqrt(2.0) * erfinv(0.95))


def run_main(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    return status, stdout.getvalue(), stderr.getvalue()


def test_fit_matches_polyfit():
    # Second method: numpy.polyfit in 1 / n with weights 1 / sem and the unscaled covariance.
    n = np.array([250, 500, 1000, 2000, 4000])
    mean = np.array([0.1781, 0.1765, 0.1752, 0.1749, 0.1746])
    sem = np.array([0.002, 0.0015, 0.0008, 0.0006, 0.0004])
    coefficients, covariance = np.polyfit(1.0 / n, mean, 1, w=1.0 / sem, cov="unscaled")

    fit = fit_finite_size(n, mean, sem)

    assert fit.eps_inf == pytest.approx(coefficients[1], rel=1e-10)
    assert fit.slope == pytest.approx(coefficients[0], rel=1e-10)
    assert fit.eps_inf_error == pytest.approx(math.sqrt(covariance[1, 1]), rel=1e-10)
    assert fit.slope_error == pytest.approx(math.sqrt(covariance[0, 0]), rel=1e-10)
    assert fit.dof == 3


def test_fit_recovers_exact_line():
    n = np.array([100, 300, 900])
    fit = fit_finite_size(n, 0.2 + 1.5 / n, np.full(3, 0.01))

    assert fit.eps_inf == pytest.approx(0.2, abs=1e-14)
    assert fit.slope == pytest.approx(1.5, rel=1e-12)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-20)


def test_fit_error_bar_covers_truth_at_nominal_rate():
    # 4000 synthetic data sets with Gaussian noise of known sem: the 1-sigma bar of eps_inf must
    # cover the true value in 68.3% of them, and chi^2 must average its degrees of freedom.
    rng = np.random.default_rng(0)
    n = np.array([250, 500, 1000, 2000, 4000])
    sem = 0.03 / np.sqrt(n)
    covered, chi2 = [], []
    for _ in range(4000):
        mean = 0.17 + 0.4 / n + sem * rng.standard_normal(n.size)
        fit = fit_finite_size(n, mean, sem)
        covered.append(abs(fit.eps_inf - 0.17) < fit.eps_inf_error)
        chi2.append(fit.chi2)

    # Binomial standard error of the coverage: sqrt(0.683 * 0.317 / 4000) = 0.0074.
    assert abs(np.mean(covered) - 0.6827) < 4 * 0.0074
    # chi^2 with 3 degrees of freedom has variance 6, so its mean over 4000 has s.e. 0.039.
    assert abs(np.mean(chi2) - 3.0) < 4 * 0.039


@pytest.mark.parametrize("n, mean, sem, message", [
    ([500, 500], [0.1, 0.1], [0.01, 0.01], "at least 2 distinct n"),
    ([250, 500], [0.1, 0.1], [0.01, 0.0], "positive standard error"),
    ([250, 500], [0.1, 0.1], [0.01, math.nan], "positive standard error"),
])
def test_fit_rejects_unusable_data(n, mean, sem, message):
    with pytest.raises(ValueError, match=message):
        fit_finite_size(n, mean, sem)


def test_geometric_dimensions_doubling():
    assert geometric_dimensions(250, 16000, 7) == [250, 500, 1000, 2000, 4000, 8000, 16000]
    assert geometric_dimensions(100, 100, 1) == [100]


@pytest.mark.slow
def test_eps_inf_matches_se_at_alpha_2(numpy_model, tmp_path):
    """Fit 32 seeds per n at n = 250 .. 2000 and compare eps_inf with eps_Bayes of SE.

    The check is that eps_Bayes lies in the fit's 95% interval, eps_inf ± 1.96 standard
    errors, the error bar the fss command prints. A 1-standard-error bar misses the truth in
    32% of seed sets even for a correct fit (the coverage test above), so it would make a
    fragile test.
    """
    study = finite_size_scaling(numpy_model, 2.0, [250, 500, 1000, 2000], 32, tmp_path, variant="scalar",
                                n_test=1000, jobs=2)

    assert study.runs.tolist() == [32, 32, 32, 32]
    assert study.fit.eps_inf_error < 0.002
    assert abs(study.fit.eps_inf - study.eps_se) < Z_95 * study.fit.eps_inf_error
    # The slope of eps in 1 / n must be finite-size sized: |a| / n below 0.01 at n = 250.
    assert abs(study.fit.slope) / 250 < 0.01


@pytest.fixture(scope="module")
def small_fss(tmp_path_factory):
    out = tmp_path_factory.mktemp("fss") / "out"
    argv = ["fss", "--alpha", "2", "--n", "40,80", "--seeds", "3", "--n-test", "200", "--jobs", "1",
            "--variant", "scalar", "--dtype", "float32", "--out", str(out)]
    status, stdout, stderr = run_main(argv)
    return out, argv, status, stdout, stderr


def test_fss_command_writes_outputs(small_fss):
    out, _, status, stdout, stderr = small_fss
    result = json.loads((out / "fss.json").read_text())

    assert status == 0, stderr
    assert "eps_inf = " in stdout
    assert sorted(path.name for path in out.iterdir()) == [
        "fss-runs", "fss-trajectory.csv", "fss-trajectory.png", "fss.csv", "fss.json", "fss.png"]
    assert sorted(path.name for path in (out / "fss-runs").iterdir()) == ["n40.jsonl", "n80.jsonl"]
    assert result["n"] == [40, 80]
    assert result["runs_used"] == [3, 3]
    assert result["dtype"] == "float32"
    assert len(result["q_se"]) == 11


def test_fss_seeds_differ_between_n(small_fss):
    out, *_ = small_fss
    seeds = {}
    for n in (40, 80):
        lines = (out / "fss-runs" / f"n{n}.jsonl").read_text().splitlines()[1:]
        seeds[n] = [json.loads(line)["seed"] for line in lines]

    assert seeds == {40: [0, 1, 2], 80: [3, 4, 5]}


def test_fss_rerun_resumes_runs(small_fss):
    out, argv, *_ = small_fss
    before = (out / "fss-runs" / "n80.jsonl").read_bytes()
    status, stdout, stderr = run_main(argv)

    assert status == 0, stderr
    assert (out / "fss-runs" / "n80.jsonl").read_bytes() == before


@pytest.mark.parametrize("argv, named", [
    (["--alpha", "2", "--n", "100"], "at least 2 distinct n"),
    (["--alpha", "2", "--n", "100,100"], "at least 2 distinct n"),
    (["--alpha", "0", "--n", "100,200"], "argument --alpha"),
    (["--alpha", "2", "--n", "100,200", "--seeds", "1"], "argument --seeds"),
    (["--alpha", "2", "--n", "1:100:3"], "START = 1 must be >= 2"),
])
def test_fss_bad_input_exits_2(tmp_path, argv, named):
    status, stdout, stderr = run_main(["fss", *argv, "--out", str(tmp_path / "out")])

    assert status == 2
    assert len(stderr.splitlines()) == 1, stderr
    assert named in stderr
    assert not (tmp_path / "out").exists()


def test_fss_too_large_for_memory_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    status, _, stderr = run_main(["fss", "--alpha", "2", "--n", "100000:400000:3", "--out", str(out)])

    assert status == 2
    assert "needs about 2.56 TB" in stderr
    assert not out.exists()
