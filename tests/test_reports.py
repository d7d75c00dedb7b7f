"""Tests of the reports layer: text and CSV tables, atomic output files, JSON encoding, plots."""

import csv
import io
import json
import math
import os

import matplotlib.image
import numpy as np
import pytest

from replica_tools.reports import files
from replica_tools.reports.files import OutputFolder, dumps_json, write_atomic
from replica_tools.reports.plots import plot_learning_curve
from replica_tools.reports.tables import MISSING, format_csv, format_number, format_table

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# Tables


def test_format_number_significant_digits():
    assert format_number(0.123456789, digits=4) == "0.1235"
    assert format_number(12345.678, digits=3) == "1.23e+04"


def test_format_number_missing_values():
    assert format_number(None) == MISSING
    assert format_number(math.nan) == MISSING


def test_table_aligns_columns_right():
    text = format_table([("alpha", [0.5, 10.0]), ("eps", [0.25, math.nan])])
    lines = text.split("\n")

    assert len(lines) == 4
    assert len({len(line) for line in lines}) == 1
    assert lines[0].split() == ["alpha", "eps"]
    assert lines[2].split() == ["0.5", "0.25"]
    assert lines[3].split() == ["10", MISSING]


def test_table_column_digits_override():
    text = format_table([("a", [0.123456789]), ("b", [0.123456789], 3)])

    assert text.split("\n")[2].split() == ["0.123457", "0.123"]


def test_table_rejects_unequal_columns():
    with pytest.raises(ValueError, match="alpha: 2, eps: 1"):
        format_table([("alpha", [1.0, 2.0]), ("eps", [0.1])])


def test_csv_keeps_full_precision():
    value = 1.0 / 3.0
    rows = list(csv.reader(io.StringIO(format_csv([("x", [value])]))))

    assert rows[0] == ["x"]
    assert float(rows[1][0]) == value


def test_csv_writes_nan_as_empty_cell():
    rows = list(csv.reader(io.StringIO(format_csv([("x", [math.nan, 1.5])]))))

    assert rows[1] == [""]
    assert rows[2] == ["1.5"]


def test_csv_integers_and_strings_verbatim():
    text = format_csv([("seed", [np.int64(3), 4]), ("status", ["converged", "diverged"])])
    rows = list(csv.reader(io.StringIO(text)))

    assert rows[1] == ["3", "converged"]
    assert rows[2] == ["4", "diverged"]


# Atomic files


def _hidden_temporaries(folder):
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


def test_write_atomic_replaces_content(tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("old")

    write_atomic(target, "new")

    assert target.read_text() == "new"
    assert _hidden_temporaries(tmp_path) == []


def test_write_atomic_uses_umask_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "result.bin", b"\x00\x01")
    finally:
        os.umask(previous)

    assert (tmp_path / "result.bin").stat().st_mode & 0o777 == 0o644


def test_output_folder_writes_all_files(tmp_path):
    out = tmp_path / "parent" / "run"

    with OutputFolder(out) as folder:
        folder.add("a.csv", "x\n1\n")
        folder.add("b.png", b"\x89PNG")

    assert (out / "a.csv").read_text() == "x\n1\n"
    assert (out / "b.png").read_bytes() == b"\x89PNG"
    assert _hidden_temporaries(out) == []


def test_output_folder_failure_removes_created_folders(tmp_path):
    out = tmp_path / "parent" / "run"

    with pytest.raises(RuntimeError):
        with OutputFolder(out) as folder:
            folder.add("a.csv", "x\n")
            raise RuntimeError("rendering failed")

    assert not (tmp_path / "parent").exists()
    assert os.listdir(tmp_path) == []


def test_output_folder_failure_keeps_existing_files(tmp_path):
    (tmp_path / "a.csv").write_text("old")

    with pytest.raises(RuntimeError):
        with OutputFolder(tmp_path) as folder:
            folder.add("a.csv", "new")
            folder.add("b.csv", "new")
            raise RuntimeError("rendering failed")

    assert tmp_path.is_dir()
    assert (tmp_path / "a.csv").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["a.csv"]


def test_output_folder_failed_rename_removes_new_files(tmp_path, monkeypatch):
    out = tmp_path / "run"
    real_replace = os.replace
    calls = []

    def replace_failing_second(source, destination):
        calls.append(destination)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(source, destination)

    monkeypatch.setattr(files.os, "replace", replace_failing_second)
    with pytest.raises(OSError):
        with OutputFolder(out) as folder:
            folder.add("a.csv", "a")
            folder.add("b.csv", "b")

    assert len(calls) == 2
    assert not out.exists()


def _write_then_interrupt(real_write):
    """Wrap ``_write_temporary`` so that Ctrl-C arrives right after the file is complete."""
    def write(path, data, **options):
        real_write(path, data, **options)
        raise KeyboardInterrupt

    return write


def test_output_folder_interrupt_after_write(tmp_path, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setattr(files, "_write_temporary", _write_then_interrupt(files._write_temporary))

    with pytest.raises(KeyboardInterrupt):
        with OutputFolder(out) as folder:
            folder.add("a.csv", "a")

    assert os.listdir(tmp_path) == []


def test_write_atomic_interrupt_after_write(tmp_path, monkeypatch):
    target = tmp_path / "result.txt"
    target.write_text("old")
    monkeypatch.setattr(files, "_write_temporary", _write_then_interrupt(files._write_temporary))

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new")

    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["result.txt"]


def test_output_folder_rejects_duplicate_name(tmp_path):
    with pytest.raises(ValueError, match="added twice"):
        with OutputFolder(tmp_path / "run") as folder:
            folder.add("a.csv", "1")
            folder.add("a.csv", "2")

    assert not (tmp_path / "run").exists()


# JSON


def test_json_encodes_nan_as_null():
    decoded = json.loads(dumps_json({"mean": np.array([0.5, np.nan]), "sem": math.inf}))

    assert decoded["mean"] == [0.5, None]
    assert decoded["sem"] is None


def test_json_converts_numpy_scalars():
    decoded = json.loads(dumps_json({"n": np.int64(7), "ok": np.bool_(True), "x": np.float32(0.25)}))

    assert decoded == {"n": 7, "ok": True, "x": 0.25}


# Plots


def _decode_png(data):
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def test_plot_returns_png():
    alpha = np.geomspace(0.25, 10, 50)
    data = plot_learning_curve(alpha, 0.44 / (1 + alpha), asymptote_constant=0.4417)

    assert data.startswith(PNG_SIGNATURE)
    image = _decode_png(data)
    assert image.shape[0] > 100
    assert image.shape[1] > image.shape[0]


def test_plot_accepts_missing_gamp_points():
    alpha = np.geomspace(0.25, 10, 50)
    data = plot_learning_curve(
        alpha, 0.44 / (1 + alpha),
        gamp_alpha=np.array([0.5, 2.0, 8.0]),
        gamp_mean=np.array([0.3, np.nan, 0.05]),
        gamp_sem=np.array([0.01, np.nan, np.nan]),
        asymptote_constant=0.4417, title="test",
    )

    assert data.startswith(PNG_SIGNATURE)
