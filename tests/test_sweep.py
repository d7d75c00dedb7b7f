"""Sweep definitions, the JSON-lines results file, resuming, and the local and Dask executors."""

import json
import math

import numpy as np
import pytest

from replica_tools import __version__
from replica_tools.solvers import sweep
from replica_tools.solvers.gamp import GampDivergenceError, InsufficientMemoryError, run_gamp
from replica_tools.solvers.sweep import (
    ResultsFileError,
    SweepDefinitionError,
    parse_definition,
    read_results,
    run_sweep,
    strip_timing,
)

SMALL = {"alpha": [2.0, 1.0], "n": [60, 40], "seeds": 2, "n_test": 500}


@pytest.fixture(scope="module")
def small_definition():
    return parse_definition(SMALL)


@pytest.fixture(scope="module")
def reference_records(small_definition, tmp_path_factory):
    """The small sweep run once, point after point in this process."""
    path = tmp_path_factory.mktemp("sweep") / "reference.jsonl"
    return run_sweep(small_definition, path, jobs=1)


def without_timing(records):
    return [strip_timing(record) for record in records]


def test_definition_sorts_and_expands_grids():
    definition = parse_definition({
        "alpha": {"start": 1, "stop": 4, "num": 3}, "n": {"start": 250, "stop": 16000, "num": 7},
        "seeds": 3, "first_seed": 5,
    })

    assert definition.alpha == pytest.approx((1.0, 2.0, 4.0), rel=1e-15)
    assert definition.alpha[-1] == 4.0
    assert definition.n == (250, 500, 1000, 2000, 4000, 8000, 16000)
    assert definition.seeds == (5, 6, 7)
    assert len(definition.points()) == 3 * 7 * 3
    assert definition.points()[:2] == [(1.0, 250, 5), (1.0, 250, 6)]


def test_definition_lists_deduplicated():
    definition = parse_definition({"alpha": [2, 1, 2.0], "n": [300, 100, 300], "seeds": [4, 1, 4]})

    assert definition.alpha == (1.0, 2.0)
    assert definition.n == (100, 300)
    assert definition.seeds == (1, 4)


@pytest.mark.parametrize("change, key", [
    ({"alphas": [1.0]}, "alphas"),
    ({"alpha": "1,2"}, "alpha"),
    ({"alpha": []}, "alpha"),
    ({"alpha": [0.0]}, "alpha"),
    ({"alpha": [True]}, "alpha"),
    ({"alpha": {"start": 1, "stop": 2, "num": 0}}, "alpha.num"),
    ({"alpha": {"start": 2, "stop": 1, "num": 3}}, "alpha"),
    ({"alpha": {"start": 1, "stop": 2}}, "alpha.num"),
    ({"alpha": {"start": 1, "stop": 2, "num": 3, "step": 1}}, "alpha.step"),
    ({"alpha": {"start": 1, "stop": 2, "num": 3, "spacing": "exp"}}, "alpha.spacing"),
    ({"n": [100.5]}, "n"),
    ({"n": []}, "n"),
    ({"n": [1]}, "n"),
    ({"n": {"start": 1000, "stop": 100, "num": 3}}, "n"),
    ({"seeds": 0}, "seeds"),
    ({"seeds": []}, "seeds"),
    ({"seeds": "4"}, "seeds"),
    ({"seeds": [-1]}, "seeds"),
    ({"seeds": [1, 2], "first_seed": 3}, "first_seed"),
    ({"rho": "1"}, "rho"),
    ({"rho": 0.0}, "rho"),
    ({"variant": "diagonal"}, "variant"),
    ({"dtype": "float16"}, "dtype"),
    ({"damping": 1.0}, "damping"),
    ({"max_iter": 2.5}, "max_iter"),
    ({"max_iter": True}, "max_iter"),
    ({"tol": -1.0}, "tol"),
    ({"n_test": 0}, "n_test"),
])
def test_definition_error_names_key(change, key):
    with pytest.raises(SweepDefinitionError) as caught:
        parse_definition(SMALL | change)

    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")


def test_definition_missing_key_named():
    with pytest.raises(SweepDefinitionError, match="^n: missing"):
        parse_definition({"alpha": [1.0], "seeds": 2})


def test_digest_changes_with_any_setting(small_definition):
    changed = [parse_definition(SMALL | change) for change in
               ({"seeds": 3}, {"rho": 2.0}, {"variant": "scalar"}, {"dtype": "float32"}, {"tol": 1e-9})]

    assert parse_definition(dict(SMALL)).digest() == small_definition.digest()
    assert len({definition.digest() for definition in changed} | {small_definition.digest()}) == 6


def test_result_lines_match_run_gamp(reference_records, numpy_model):
    # Second computation of one point: run_gamp called directly with the same settings.
    record = reference_records[-1]
    direct = run_gamp(numpy_model, 2.0, 60, 1, n_test=500)

    assert (record["alpha"], record["n"], record["seed"]) == (2.0, 60, 1)
    assert record["overlap_error"] == direct.overlap_error
    assert record["test_error"] == direct.test_error
    assert record["q_history"] == direct.q_history.tolist()
    assert record["iterations"] == direct.iterations
    assert record["status"] == "converged"
    assert record["version"] == __version__
    assert record["seconds"] > 0
    assert record["variant"] == "per_component"
    assert record["dtype"] == "float64"
    assert record["tol"] == 1e-8


def test_results_file_has_header_and_lines(small_definition, reference_records, tmp_path):
    path = tmp_path / "results.jsonl"
    run_sweep(small_definition, path)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])

    assert len(lines) == 1 + len(small_definition.points())
    assert header["definition_sha256"] == small_definition.digest()
    assert header["definition"]["alpha"] == [1.0, 2.0]
    assert without_timing(json.loads(line) for line in lines[1:]) == without_timing(reference_records)


def test_rerun_skips_finished_points(small_definition, reference_records, tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    lines = [json.dumps(sweep.header_line(small_definition))]
    lines += [json.dumps(record) for record in reference_records[:5]]
    path.write_text("\n".join(lines) + "\n")
    calls = []
    original = sweep.run_point
    monkeypatch.setattr(sweep, "run_point", lambda *arguments: calls.append(arguments[1:]) or original(*arguments))

    records = run_sweep(small_definition, path, jobs=1)

    assert calls == [tuple(point) for point in small_definition.points()[5:]]
    assert without_timing(records) == without_timing(reference_records)
    assert len(path.read_text().splitlines()) == 1 + len(reference_records)


def test_cut_last_line_dropped_and_rerun(small_definition, reference_records, tmp_path):
    # A kill during a write leaves a line without its newline: it is dropped and its point rerun.
    path = tmp_path / "results.jsonl"
    lines = [json.dumps(sweep.header_line(small_definition))]
    lines += [json.dumps(record) for record in reference_records[:3]]
    path.write_text("\n".join(lines) + "\n" + json.dumps(reference_records[3])[:40])

    assert len(read_results(path, small_definition)) == 3
    assert path.read_text().endswith("\n")
    records = run_sweep(small_definition, path)
    assert without_timing(records) == without_timing(reference_records)


def test_other_definition_rejected(small_definition, reference_records, tmp_path):
    path = tmp_path / "results.jsonl"
    run_sweep(small_definition, path)
    before = path.read_bytes()
    other = parse_definition(SMALL | {"seeds": 3, "variant": "scalar"})

    with pytest.raises(ResultsFileError, match=r"different sweep definition \(differs in seeds, variant\)"):
        run_sweep(other, path)
    assert path.read_bytes() == before


def test_foreign_file_rejected(small_definition, tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text("alpha,n\n1,2\n")

    with pytest.raises(ResultsFileError, match="is not a sweep results file"):
        run_sweep(small_definition, path)


def test_corrupt_complete_line_rejected(small_definition, tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(sweep.header_line(small_definition)) + "\n{\"alpha\": 1.0\n")

    with pytest.raises(ResultsFileError, match="line 2: not a valid result line"):
        read_results(path, small_definition)


def test_joblib_workers_match_serial(small_definition, reference_records, tmp_path):
    records = run_sweep(small_definition, tmp_path / "parallel.jsonl", jobs=2)

    assert without_timing(records) == without_timing(reference_records)


def test_dask_cluster_matches_local(small_definition, reference_records, tmp_path):
    distributed = pytest.importorskip("distributed")
    # One in-process worker on the loopback interface: nothing else on the network.
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=2, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        records = run_sweep(small_definition, tmp_path / "dask.jsonl", dask_address=cluster.scheduler_address)

    assert without_timing(records) == without_timing(reference_records)


def test_memory_checked_before_any_point(tmp_path):
    definition = parse_definition({"alpha": [1.0], "n": [10**7], "seeds": 1})
    path = tmp_path / "results.jsonl"

    with pytest.raises(InsufficientMemoryError, match="needs about 800 TB"):
        run_sweep(definition, path)
    assert not path.exists()


def test_diverged_point_recorded(small_definition, tmp_path, monkeypatch):
    def diverging(*arguments, **settings):
        raise GampDivergenceError("GAMP diverged at iteration 3: omega has 1 non-finite entries of 80")

    monkeypatch.setattr(sweep, "run_gamp", diverging)
    records = run_sweep(small_definition, tmp_path / "results.jsonl")
    summary = sweep.summarize_sweep(records)

    assert {record["status"] for record in records} == {"diverged"}
    assert records[0]["message"].startswith("GAMP diverged at iteration 3")
    assert records[0]["overlap_error"] is None
    assert summary["runs_diverged"] == [2, 2, 2, 2]
    assert all(math.isnan(value) for value in summary["eps_mean"])


def test_summary_means_over_seeds(reference_records):
    summary = sweep.summarize_sweep(reference_records)
    first = [record["overlap_error"] for record in reference_records[:2]]

    assert summary["alpha"] == [1.0, 1.0, 2.0, 2.0]
    assert summary["n"] == [40, 60, 40, 60]
    assert summary["overlap_eps_mean"][0] == pytest.approx(np.mean(first), rel=1e-15)
    assert summary["overlap_eps_sem"][0] == pytest.approx(np.std(first, ddof=1) / math.sqrt(2), rel=1e-12)


def test_results_file_in_use_rejected(tmp_path):
    other = parse_definition(SMALL | {"seeds": [0, 1, 2]})
    other_path = tmp_path / "other.jsonl"

    with sweep.ResultsWriter(other_path, other):
        with pytest.raises(ResultsFileError, match="in use by another running sweep"):
            run_sweep(other, other_path)
