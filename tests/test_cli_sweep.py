"""``replica-tools sweep``: sweep files, bad input, progress, kill and resume, and the Dask flag."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from replica_tools.cli.main import main
from replica_tools.solvers.sweep import strip_timing

FLAGS = ["--alpha", "1,2", "--n", "40,60", "--seeds", "2", "--n-test", "500", "--jobs", "1"]


def run_main(argv):
    """Run ``main(argv)`` in this process and return (exit status, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    return status, stdout.getvalue(), stderr.getvalue()


def read_lines(path):
    lines = path.read_text().splitlines()
    return json.loads(lines[0]), [strip_timing(json.loads(line)) for line in lines[1:]]


def point_order(record):
    return record["alpha"], record["n"], record["seed"]


@pytest.fixture(scope="module")
def flag_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli_sweep") / "flags.jsonl"
    status, stdout, stderr = run_main(["sweep", *FLAGS, "--results", str(path)])
    return path, status, stdout, stderr


def test_sweep_from_flags_writes_lines_and_table(flag_run):
    path, status, stdout, stderr = flag_run
    header, records = read_lines(path)

    assert status == 0, stderr
    assert stderr == ""  # no progress bar: stderr is not a terminal
    assert len(records) == 8
    assert header["definition"]["n"] == [40, 60]
    assert "SE eps_Bayes" in stdout
    assert "8 points" in stdout


def test_toml_file_same_as_flags(flag_run, tmp_path):
    path, *_ = flag_run
    config = tmp_path / "sweep.toml"
    config.write_text('alpha = [1.0, 2]\nn = [40, 60]\nseeds = 2\nn_test = 500\n')
    results = tmp_path / "toml.jsonl"

    status, _, stderr = run_main(["sweep", "--config", str(config), "--results", str(results), "--jobs", "1"])

    assert status == 0, stderr
    assert read_lines(results) == read_lines(path)


def test_flag_overrides_file(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text('alpha = [1.0]\nn = [40]\nseeds = 1\nn_test = 500\nvariant = "per_component"\n')
    results = tmp_path / "results.jsonl"

    status, _, stderr = run_main(["sweep", "--config", str(config), "--variant", "scalar", "--dtype", "float32",
                                  "--results", str(results), "--jobs", "1"])
    header, records = read_lines(results)

    assert status == 0, stderr
    assert header["definition"]["variant"] == "scalar"
    assert records[0]["dtype"] == "float32"


@pytest.mark.parametrize("text, named", [
    ('alpha = [1.0]\nn = [40]\nseeds = 1\nalpah = 2\n', "key 'alpah': unknown key"),
    ('alpha = "1,2"\nn = [40]\nseeds = 1\n', "key 'alpha': expected a list"),
    ('alpha = [1.0]\nn = [40]\nseeds = 1\nmax_iter = "many"\n', "key 'max_iter': invalid value 'many'"),
    ('alpha = []\nn = [40]\nseeds = 1\n', "key 'alpha': the list is empty"),
    ('alpha = {start = 1, stop = 2, num = 0}\nn = [40]\nseeds = 1\n', "key 'alpha.num': the range is empty"),
    ('alpha = [1.0]\nn = {start = 400, stop = 40, num = 3}\nseeds = 1\n', "key 'n': the range is empty"),
    ('alpha = [1.0]\nn = [40]\nseeds = 0\n', "key 'seeds': the range is empty"),
    ('alpha = [1.0\n', "is not valid TOML"),
])
def test_bad_sweep_file_exits_2(tmp_path, text, named):
    config = tmp_path / "sweep.toml"
    config.write_text(text)
    results = tmp_path / "results.jsonl"

    status, stdout, stderr = run_main(["sweep", "--config", str(config), "--results", str(results)])

    assert status == 2
    assert stdout == ""
    assert len(stderr.splitlines()) == 1, stderr
    assert named in stderr
    assert "Traceback" not in stderr
    assert not results.exists()


@pytest.mark.parametrize("argv, named", [
    (["--alpha", "1", "--n", "40", "--seeds", "0"], "argument --seeds"),
    (["--alpha", "1", "--n", "forty", "--seeds", "1"], "argument --n"),
    (["--alpha", "1", "--n", "1", "--seeds", "1"], "argument --n"),
    (["--alpha", "1", "--seeds", "1"], "missing n: give --n"),
    (["--alpha", "1", "--n", "40", "--seeds", "1", "--dask", "localhost"], "argument --dask"),
    (["--config", "/nonexistent/sweep.toml"], "argument --config: cannot read"),
])
def test_bad_flag_exits_2(tmp_path, argv, named):
    status, stdout, stderr = run_main(["sweep", *argv, "--results", str(tmp_path / "results.jsonl")])

    assert status == 2
    assert len(stderr.splitlines()) == 1, stderr
    assert named in stderr


def test_other_definition_results_file_rejected(flag_run):
    path, *_ = flag_run
    before = path.read_bytes()
    argv = ["sweep", *FLAGS, "--variant", "scalar", "--results", str(path)]

    status, stdout, stderr = run_main(argv)

    assert status == 2
    assert "argument --results" in stderr
    assert "different sweep definition (differs in variant)" in stderr
    assert path.read_bytes() == before


def test_result_line_missing_fields_rejected(flag_run, tmp_path):
    path, *_ = flag_run
    header = path.read_text().splitlines()[0]
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(header + "\n" + json.dumps({"alpha": 1.0, "n": 40, "seed": 0}) + "\n")

    status, _, stderr = run_main(["sweep", *FLAGS, "--results", str(damaged)])

    assert status == 2
    assert stderr.splitlines() == [
        f"replica-tools sweep: error: argument --results: {damaged}, line 2: not a valid result line "
        "(missing status, iterations, test_error, overlap_error, m_history, q_history, message, version, seconds)"
    ]


@pytest.mark.parametrize("where", ["missing-folder", "folder"])
def test_unusable_results_path_exits_2(tmp_path, where):
    results = tmp_path / "no-such-folder" / "results.jsonl" if where == "missing-folder" else tmp_path

    status, _, stderr = run_main(["sweep", *FLAGS, "--results", str(results)])

    assert status == 2
    assert len(stderr.splitlines()) == 1
    assert f"cannot open '{results}'" in stderr


def test_oversized_sweep_stops_before_start(tmp_path):
    results = tmp_path / "results.jsonl"
    status, _, stderr = run_main(["sweep", "--alpha", "1", "--n", "10000000", "--seeds", "1", "--jobs", "1",
                                  "--results", str(results)])

    assert status == 2
    assert "needs about 800 TB" in stderr
    assert not results.exists()


def test_progress_flag_draws_bar(tmp_path):
    results = tmp_path / "results.jsonl"
    status, _, stderr = run_main(["sweep", "--alpha", "1", "--n", "40", "--seeds", "2", "--n-test", "100",
                                  "--jobs", "1", "--progress", "--results", str(results)])

    assert status == 0
    assert "2/2 points" in stderr
    assert stderr.endswith("\n")


def test_rerun_of_finished_sweep_runs_nothing(flag_run):
    path, *_ = flag_run
    before = path.read_bytes()
    status, _, stderr = run_main(["sweep", *FLAGS, "--progress", "--results", str(path)])

    assert status == 0
    assert "8/8 points (8 from the results file)" in stderr
    assert path.read_bytes() == before


@pytest.mark.slow
def test_killed_sweep_resumes_to_same_results(tmp_path):
    # 40 points of about 0.05 s each: the kill lands while the sweep runs.
    flags = ["--alpha", "1,2", "--n", "100,150", "--seeds", "10", "--n-test", "1000", "--jobs", "1"]
    killed = tmp_path / "killed.jsonl"
    environment = dict(os.environ, PYTHONUNBUFFERED="1")
    # A session of its own, so that SIGKILL reaches the sweep and nothing else.
    process = subprocess.Popen([sys.executable, "-m", "replica_tools", "sweep", *flags, "--results", str(killed)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if killed.exists() and killed.read_bytes().count(b"\n") >= 4:
                break
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    lines_at_kill = killed.read_bytes().count(b"\n")

    status, _, stderr = run_main(["sweep", *flags, "--results", str(killed)])
    uninterrupted = tmp_path / "uninterrupted.jsonl"
    run_main(["sweep", *flags, "--results", str(uninterrupted)])

    assert process.returncode == -signal.SIGKILL
    assert 4 <= lines_at_kill < 41
    assert status == 0, stderr
    header, records = read_lines(killed)
    _, expected = read_lines(uninterrupted)
    assert sorted(records, key=point_order) == sorted(expected, key=point_order)
    assert len(records) == 40


def test_dask_flag_matches_local(flag_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    path, *_ = flag_run
    results = tmp_path / "dask.jsonl"
    # One in-process worker on the loopback interface: nothing else on the network.
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        status, _, stderr = run_main(["sweep", *FLAGS, "--dask", cluster.scheduler_address,
                                      "--results", str(results)])

    assert status == 0, stderr
    header, records = read_lines(results)
    _, local = read_lines(path)
    assert sorted(records, key=point_order) == sorted(local, key=point_order)
