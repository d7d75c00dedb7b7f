"""GAMP sweeps over alpha x n x seed, resumable from a JSON-lines results file.

A sweep is fixed by its ``SweepDefinition``: the grids of alpha, n and seeds, and the GAMP
settings. Its points run in parallel, on local processes through joblib or on a Dask
distributed cluster, and each finished point is appended at once to the results file as one
JSON line. The first line of the file is a header with the definition and its SHA-256 digest.
Running the same definition again skips the points already in the file, so a sweep that was
killed loses only the points that were running. A file whose header has another digest is
rejected, so results of two definitions never mix.

Reproducibility: a point's result depends only on the definition, alpha, n and the seed. The
instance comes from the seed alone (``replica_tools.solvers.gamp.make_instance``, the same for
any block size), and each point runs with one BLAS thread, because OpenBLAS sums a
matrix-vector product in an order that depends on its thread count. Results are then bitwise
equal for any worker count and on either executor, given the same NumPy and BLAS build on the
same CPU type. The ``seconds`` field (wall time of the point) is the only field that varies.
"""

import functools
import hashlib
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from numbers import Integral, Real
from pathlib import Path

from threadpoolctl import threadpool_limits

from replica_tools import __version__
from replica_tools.reports.files import to_jsonable
from replica_tools.solvers.gamp import (
    DEFAULT_VARIANT,
    DTYPES,
    VARIANTS,
    GampDivergenceError,
    check_instance_memory,
    run_gamp,
)
from replica_tools.solvers.learning_curve import mean_and_sem

logger = logging.getLogger(__name__)

FORMAT = "replica_tools.sweep/1"
MAX_POINTS = 10**6
MAX_N = 10**8
MAX_SEED = 2**32 - 1
# Fields of a result line that differ between two runs of the same point.
TIMING_FIELDS = ("seconds",)


class SweepDefinitionError(ValueError):
    """An invalid sweep definition. ``key`` names the offending key."""

    def __init__(self, key, message):
        super().__init__(f"{key}: {message}")
        self.key = key


class ResultsFileError(ValueError):
    """A results file that belongs to another sweep definition or is not a results file."""


@dataclass(frozen=True)
class SweepDefinition:
    """The points and GAMP settings of a sweep: everything that decides its results.

    ``alpha``, ``n`` and ``seeds`` are sorted tuples without duplicates. The other fields are
    those of ``replica_tools.solvers.gamp.run_gamp``; ``rho`` is the teacher second moment of
    the perceptron with Gaussian prior and sign channel.
    """

    alpha: tuple
    n: tuple
    seeds: tuple
    rho: float = 1.0
    variant: str = DEFAULT_VARIANT
    dtype: str = "float64"
    damping: float = 0.0
    max_iter: int = 200
    tol: float = 1e-8
    n_test: int = 10_000

    def points(self):
        """Return the (alpha, n, seed) triples in a fixed order: alpha, then n, then seed."""
        return [(alpha, n, seed) for alpha in self.alpha for n in self.n for seed in self.seeds]

    def settings(self):
        """Return the GAMP settings as a dictionary: the fields other than the three grids."""
        return {key: value for key, value in asdict(self).items() if key not in ("alpha", "n", "seeds")}

    def to_dict(self):
        """Return the definition as a JSON-ready dictionary with lists for the grids."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    def digest(self):
        """Return the SHA-256 hex digest of the definition's canonical JSON form."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


DEFINITION_KEYS = tuple(field.name for field in fields(SweepDefinition)) + ("first_seed",)


def parse_definition(mapping):
    """Validate ``mapping`` (from a TOML file or from flags) and return a ``SweepDefinition``.

    Grid keys take a list or a range table:

    - ``alpha``: a list of numbers > 0, or ``{start, stop, num, spacing}`` with spacing
      ``"log"`` (default) or ``"lin"``.
    - ``n``: a list of integers >= 2, or ``{start, stop, num}``, geometric and rounded to
      integers (duplicates after rounding are dropped).
    - ``seeds``: a count (seeds ``first_seed``, ``first_seed + 1``, ...) or a list of seeds.

    Raises ``SweepDefinitionError`` naming the key for an unknown key, a wrong type, an empty
    grid or a value out of range.
    """
    unknown = sorted(set(mapping) - set(DEFINITION_KEYS))
    if unknown:
        raise SweepDefinitionError(unknown[0], f"unknown key (valid keys: {', '.join(DEFINITION_KEYS)})")
    for key in ("alpha", "n", "seeds"):
        if key not in mapping:
            raise SweepDefinitionError(key, "missing: the sweep needs alpha, n and seeds")

    alpha = _parse_alpha(mapping["alpha"])
    n = _parse_dimensions(mapping["n"])
    first_seed = _integer(mapping, "first_seed", 0, 0, MAX_SEED)
    seeds = _parse_seeds(mapping["seeds"], first_seed, "first_seed" in mapping)
    defaults = SweepDefinition(alpha=(), n=(), seeds=())
    definition = SweepDefinition(
        alpha=alpha, n=n, seeds=seeds,
        rho=_number(mapping, "rho", defaults.rho, 1e-6, 1e6, "a number in [1e-6, 1e6]"),
        variant=_choice(mapping, "variant", defaults.variant, VARIANTS),
        dtype=_choice(mapping, "dtype", defaults.dtype, DTYPES),
        damping=_number(mapping, "damping", defaults.damping, 0.0, math.nextafter(1.0, 0.0), "a number in [0, 1)"),
        max_iter=_integer(mapping, "max_iter", defaults.max_iter, 1, 10**6),
        tol=_number(mapping, "tol", defaults.tol, 1e-300, 1.0, "a number in [1e-300, 1]"),
        n_test=_integer(mapping, "n_test", defaults.n_test, 1, 10**9),
    )
    count = len(alpha) * len(n) * len(seeds)
    if count > MAX_POINTS:
        raise SweepDefinitionError("seeds", f"the sweep has {count} points, more than {MAX_POINTS}")
    for value in alpha:
        if round(value * n[0]) < 1:
            raise SweepDefinitionError("alpha", f"alpha = {value:g} with n = {n[0]} gives m = round(alpha n) = 0 "
                                                "samples: raise alpha or n")
    return definition


def _type_name(value):
    return type(value).__name__


def _is_number(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def _is_integer(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def _parse_range(key, table, required=("start", "stop", "num"), optional=()):
    unknown = sorted(set(table) - set(required) - set(optional))
    if unknown:
        raise SweepDefinitionError(f"{key}.{unknown[0]}", f"unknown key (a range takes {', '.join(required + optional)})")
    for part in required:
        if part not in table:
            raise SweepDefinitionError(f"{key}.{part}", "missing from the range table")
    start, stop, num = table["start"], table["stop"], table["num"]
    for part, value in (("start", start), ("stop", stop)):
        if not _is_number(value) or not math.isfinite(value):
            raise SweepDefinitionError(f"{key}.{part}", f"expected a number, got {value!r} ({_type_name(value)})")
    if not _is_integer(num):
        raise SweepDefinitionError(f"{key}.num", f"expected an integer, got {num!r} ({_type_name(num)})")
    if num < 1:
        raise SweepDefinitionError(f"{key}.num", f"the range is empty (num = {num}): expected num >= 1")
    if num > MAX_POINTS:
        raise SweepDefinitionError(f"{key}.num", f"num = {num} exceeds {MAX_POINTS}")
    if num > 1 and not start < stop:
        raise SweepDefinitionError(key, f"the range is empty: start = {start:g} must be < stop = {stop:g}")
    return float(start), float(stop), int(num)


def _geometric(start, stop, num):
    if num == 1:
        return [start]
    ratio = (stop / start) ** (1.0 / (num - 1))
    return [start * ratio**index for index in range(num - 1)] + [stop]


def _parse_alpha(value):
    if isinstance(value, dict):
        start, stop, num = _parse_range("alpha", value, optional=("spacing",))
        spacing = value.get("spacing", "log")
        if spacing not in ("log", "lin"):
            raise SweepDefinitionError("alpha.spacing", f"expected \"log\" or \"lin\", got {spacing!r}")
        if start <= 0:
            raise SweepDefinitionError("alpha.start", f"expected a number > 0, got {start:g}")
        if spacing == "log":
            values = _geometric(start, stop, num)
        else:
            values = [start + (stop - start) * index / max(1, num - 1) for index in range(num)]
    elif isinstance(value, (list, tuple)):
        values = list(value)
    else:
        raise SweepDefinitionError("alpha", f"expected a list of numbers or a range table, got {_type_name(value)}")
    if not values:
        raise SweepDefinitionError("alpha", "the list is empty: expected at least one alpha")
    for item in values:
        if not _is_number(item) or not (math.isfinite(item) and 1e-6 <= item <= 1e8):
            raise SweepDefinitionError("alpha", f"invalid value {item!r}: expected numbers in [1e-6, 1e8]")
    return tuple(sorted({float(item) for item in values}))


def _parse_dimensions(value):
    if isinstance(value, dict):
        start, stop, num = _parse_range("n", value)
        if start < 2:
            raise SweepDefinitionError("n.start", f"expected a number >= 2, got {start:g}")
        values = [round(item) for item in _geometric(start, stop, num)]
    elif isinstance(value, (list, tuple)):
        values = list(value)
    else:
        raise SweepDefinitionError("n", f"expected a list of integers or a range table, got {_type_name(value)}")
    if not values:
        raise SweepDefinitionError("n", "the list is empty: expected at least one n")
    for item in values:
        if not _is_integer(item) or not 2 <= item <= MAX_N:
            raise SweepDefinitionError("n", f"invalid value {item!r}: expected integers in [2, {MAX_N}]")
    return tuple(sorted({int(item) for item in values}))


def _parse_seeds(value, first_seed, first_seed_given):
    if _is_integer(value):
        if value < 1:
            raise SweepDefinitionError("seeds", f"the range is empty (seeds = {value}): expected a count >= 1")
        if first_seed + value - 1 > MAX_SEED:
            raise SweepDefinitionError("seeds", f"first_seed + seeds - 1 exceeds {MAX_SEED}")
        return tuple(range(first_seed, first_seed + value))
    if isinstance(value, (list, tuple)):
        if first_seed_given:
            raise SweepDefinitionError("first_seed", "applies only when seeds is a count, not a list")
        if not value:
            raise SweepDefinitionError("seeds", "the list is empty: expected at least one seed")
        for item in value:
            if not _is_integer(item) or not 0 <= item <= MAX_SEED:
                raise SweepDefinitionError("seeds", f"invalid value {item!r}: expected integers in [0, {MAX_SEED}]")
        return tuple(sorted({int(item) for item in value}))
    raise SweepDefinitionError("seeds", f"expected a count or a list of integers, got {_type_name(value)}")


def _number(mapping, key, default, low, high, expected):
    value = mapping.get(key, default)
    if not _is_number(value) or not (math.isfinite(value) and low <= value <= high):
        raise SweepDefinitionError(key, f"invalid value {value!r}: expected {expected}")
    return float(value)


def _integer(mapping, key, default, low, high):
    value = mapping.get(key, default)
    if not _is_integer(value) or not low <= value <= high:
        raise SweepDefinitionError(key, f"invalid value {value!r}: expected an integer in [{low}, {high}]")
    return int(value)


def _choice(mapping, key, default, choices):
    value = mapping.get(key, default)
    if value not in choices:
        raise SweepDefinitionError(key, f"invalid value {value!r}: expected one of {', '.join(choices)}")
    return value


# ---------------------------------------------------------------------------------------------
# One point


@functools.lru_cache(maxsize=4)
def numpy_model(rho):
    """Return the perceptron compiled for NumPy at ``rho``, derived once per process and rho."""
    # Imported here, so that a worker process pays for SymPy only when it runs a point.
    from replica_tools.numerics.compiled import NumpyModel
    from replica_tools.symbolic import perceptron

    return NumpyModel(perceptron(), rho)


def run_point(settings, alpha, n, seed):
    """Run GAMP at one point with the ``settings`` of a definition and return its result line.

    The line contains the point, the settings, the outcome (status converged, not_converged or
    diverged, iterations, test and overlap errors, m_t and q_t at every iteration, the
    divergence message), the package version and the wall time in seconds. It runs with one
    BLAS thread (see the module docstring). Must be importable by worker processes, so it takes
    and returns plain values.
    """
    start = time.perf_counter()
    nm = numpy_model(settings["rho"])
    record = {"alpha": alpha, "n": n, "seed": seed, **settings}
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            result = run_gamp(nm, alpha, n, seed, damping=settings["damping"], tol=settings["tol"],
                              max_iter=settings["max_iter"], n_test=settings["n_test"],
                              variant=settings["variant"], dtype=settings["dtype"])
        except GampDivergenceError as error:
            record.update(status="diverged", iterations=None, test_error=None, overlap_error=None,
                          m_history=None, q_history=None, message=str(error))
        else:
            record.update(status="converged" if result.converged else "not_converged",
                          iterations=result.iterations, test_error=result.test_error,
                          overlap_error=result.overlap_error, m_history=result.m_history.tolist(),
                          q_history=result.q_history.tolist(), message=None)
    record["version"] = __version__
    record["seconds"] = time.perf_counter() - start
    return to_jsonable(record)


# Fields that every result line written by ``run_point`` has and that the summaries read.
RESULT_FIELDS = ("alpha", "n", "seed", "status", "iterations", "test_error", "overlap_error", "m_history",
                 "q_history", "message", "version", "seconds")


def point_key(record):
    """Return the (alpha, n, seed) of a result line, as the sweep's ``points`` lists them."""
    return float(record["alpha"]), int(record["n"]), int(record["seed"])


# ---------------------------------------------------------------------------------------------
# Results file


def header_line(definition):
    """Return the header of a results file: format, definition, its digest and the version."""
    return {"format": FORMAT, "definition_sha256": definition.digest(), "definition": definition.to_dict(),
            "version": __version__}


def read_results(path, definition):
    """Return the result lines of ``path`` keyed by point, after checking its header.

    Returns {} for a missing or empty file. A last line without its newline is the trace of a
    write cut short (the process was killed), so it is dropped and the file is truncated to the
    last complete line. Raises ``ResultsFileError`` if the header is missing or belongs to
    another definition, or if a complete line is not valid JSON.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return {}
    data = path.read_bytes()
    complete_end = data.rfind(b"\n") + 1
    if complete_end < len(data):
        logger.warning("%s: dropping an incomplete last line of %d bytes (a write was cut short)",
                       path, len(data) - complete_end)
        with open(path, "r+b") as stream:
            stream.truncate(complete_end)
        data = data[:complete_end]
    lines = data.decode("utf-8").splitlines()
    if not lines:
        return {}

    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ResultsFileError(f"{path} is not a sweep results file (its first line is not a {FORMAT} header): "
                               "choose another results path")
    if header.get("definition_sha256") != definition.digest():
        differences = _differing_keys(header.get("definition"), definition.to_dict())
        raise ResultsFileError(
            f"{path} contains results of a different sweep definition (differs in {differences}): results of two "
            "definitions are never mixed, so choose another results path or rerun the original definition")

    records = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
            key = point_key(record)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise ResultsFileError(f"{path}, line {number}: not a valid result line") from None
        missing = [field for field in RESULT_FIELDS if field not in record]
        if missing:
            raise ResultsFileError(f"{path}, line {number}: not a valid result line (missing {', '.join(missing)})")
        records[key] = record
    return records


def _lock(descriptor, path):
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ResultsFileError(f"{path} is in use by another running sweep: wait for it to finish or "
                               "choose another results path") from None


def _differing_keys(stored, current):
    if not isinstance(stored, dict):
        return "an unreadable definition"
    keys = sorted(key for key in set(stored) | set(current) if stored.get(key) != current.get(key))
    return ", ".join(keys) if keys else "its digest"


class ResultsWriter:
    """Appends result lines to a results file, one ``os.write`` and ``fsync`` per line.

    Each line is written whole with one system call on a file opened with O_APPEND, so a kill
    can cut at most the line being written, which ``read_results`` then drops. The file is
    locked with ``flock`` where the platform has it, so that a second sweep on the same file
    fails at once with ``ResultsFileError`` instead of interleaving its lines.
    """

    def __init__(self, path, definition):
        self.path = Path(path)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            _lock(self._descriptor, self.path)
            if new:
                self.append(header_line(definition))
        except BaseException:
            os.close(self._descriptor)
            raise

    def append(self, record):
        """Write ``record`` as one JSON line and flush it to disk."""
        data = (json.dumps(record, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
        written = 0
        while written < len(data):
            written += os.write(self._descriptor, data[written:])
        os.fsync(self._descriptor)

    def close(self):
        os.close(self._descriptor)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        self.close()
        return False


# ---------------------------------------------------------------------------------------------
# Running a sweep


def run_sweep(definition, results_path, *, jobs=1, dask_address=None, progress=None):
    """Run the points of ``definition`` missing from ``results_path`` and return every result line.

    Points run one at a time with ``jobs`` = 1, on ``jobs`` local processes through joblib
    otherwise, or on the Dask cluster whose scheduler listens at ``dask_address`` (such as
    tcp://10.0.0.5:8786), which needs the ``cluster`` extra. ``progress``, if given, is called
    as ``progress(done, total, record)`` after each point, with record None for the initial call.

    Returns the result lines in the order of ``definition.points()``. Raises
    ``ResultsFileError`` for a file of another definition and
    ``replica_tools.solvers.gamp.InsufficientMemoryError`` before any point runs if ``jobs``
    local instances of the largest point would not fit in memory.
    """
    if not (isinstance(jobs, Integral) and jobs >= 1):
        raise ValueError(f"jobs = {jobs!r} is invalid: expected an integer >= 1")
    points = definition.points()
    done = read_results(results_path, definition)
    pending = [point for point in points if point not in done]
    # Dask workers run on other machines, where each point checks its own memory before it starts.
    if pending and not dask_address:
        largest_alpha, largest_n = max(definition.alpha), max(definition.n)
        check_instance_memory(round(largest_alpha * largest_n), largest_n, definition.dtype,
                              copies=min(jobs, len(pending)))
    logger.info("sweep: %d points, %d already in %s, %d to run", len(points), len(done), results_path, len(pending))

    if progress is not None:
        progress(len(done), len(points), None)
    settings = definition.settings()
    with ResultsWriter(results_path, definition) as writer:
        for record in _execute(settings, pending, jobs, dask_address):
            writer.append(record)
            done[point_key(record)] = record
            if progress is not None:
                progress(len(done), len(points), record)
    return [done[point] for point in points]


def _execute(settings, pending, jobs, dask_address):
    """Yield the result line of every pending point as it finishes, in any order."""
    if not pending:
        return
    if dask_address:
        yield from _execute_dask(settings, pending, dask_address)
    elif jobs == 1:
        for point in pending:
            yield run_point(settings, *point)
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=jobs, return_as="generator_unordered")
        yield from parallel(delayed(run_point)(settings, *point) for point in pending)


def _execute_dask(settings, pending, address):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ImportError("the Dask path needs the cluster extra: pip install 'replica_tools[cluster]'") from None

    with Client(address, timeout="30s") as client:
        futures = [client.submit(run_point, settings, *point, pure=False) for point in pending]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)


def strip_timing(record):
    """Return a copy of a result line without the fields that vary between runs of one point."""
    return {key: value for key, value in record.items() if key not in TIMING_FIELDS}


def summarize_sweep(records):
    """Return per-(alpha, n) statistics of result lines, as columns keyed by name.

    Columns: alpha, n, runs_used (runs that did not diverge), runs_diverged, eps_mean, eps_sem
    (test error) and overlap_eps_mean, overlap_eps_sem, each the mean and its standard error
    over the runs used (NaN where undefined), in the order of first appearance.
    """
    groups = {}
    for record in records:
        groups.setdefault((float(record["alpha"]), int(record["n"])), []).append(record)
    summary = {key: [] for key in ("alpha", "n", "runs_used", "runs_diverged", "eps_mean", "eps_sem",
                                   "overlap_eps_mean", "overlap_eps_sem")}
    for (alpha, n), group in groups.items():
        used = [record for record in group if record["status"] != "diverged"]
        summary["alpha"].append(alpha)
        summary["n"].append(n)
        summary["runs_used"].append(len(used))
        summary["runs_diverged"].append(len(group) - len(used))
        for prefix, field in (("eps", "test_error"), ("overlap_eps", "overlap_error")):
            mean, sem = mean_and_sem([record[field] for record in used])
            summary[f"{prefix}_mean"].append(mean)
            summary[f"{prefix}_sem"].append(sem)
    return summary
