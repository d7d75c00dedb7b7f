"""``replica-tools sweep``: GAMP over alpha x n x seed, resumable, on local cores or a Dask cluster.

The sweep is defined by flags, by a TOML file (``--config``), or both (flags override the
file). Every finished point is appended to the ``--results`` file as one JSON line, and a rerun
of the same definition skips the points already there. At the end a table of the mean errors
per (alpha, n), with the state-evolution eps_Bayes, goes to stdout.
"""

import argparse
import datetime
import importlib.util
import os
import sys
import time

from replica_tools.cli.arguments import (
    ALPHA_SPEC_HELP,
    UsageError,
    alpha_spec,
    float_in_range,
    int_in_range,
)
from replica_tools.reports.tables import format_table
from replica_tools.solvers.gamp import DEFAULT_VARIANT, DTYPES, VARIANTS, InsufficientMemoryError
from replica_tools.solvers.sweep import (
    MAX_N,
    MAX_SEED,
    ResultsFileError,
    SweepDefinitionError,
    numpy_model,
    parse_definition,
    run_sweep,
    summarize_sweep,
)

PROG = "replica-tools sweep"
# Flags that set a key of the sweep definition, by key.
DEFINITION_FLAGS = {
    "alpha": "--alpha", "n": "--n", "seeds": "--seeds", "first_seed": "--first-seed", "rho": "--rho",
    "variant": "--variant", "dtype": "--dtype", "damping": "--damping", "max_iter": "--max-iter",
    "tol": "--tol", "n_test": "--n-test",
}
N_SPEC_HELP = ("a comma-separated list of integers such as 250,500,1000, or START:STOP:NUM for NUM "
               f"integers spaced geometrically from START to STOP, each in [2, {MAX_N}]")


def add_parser(subparsers):
    """Add the ``sweep`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "sweep",
        help="GAMP over alpha x n x seed, in parallel, with results appended to a JSON-lines file",
        description="Run GAMP on the perceptron at every (alpha, n, seed) of a grid, in parallel on "
                    "the local cores or on a Dask cluster. Each finished point is appended to the "
                    "results file at once; rerunning the same sweep skips the points already there.",
    )
    parser.add_argument("--config", metavar="FILE",
                        help="TOML file with the sweep definition: keys alpha, n, seeds, first_seed, rho, "
                             "variant, dtype, damping, max_iter, tol, n_test. Flags override its values")
    parser.add_argument("--alpha", type=alpha_spec, metavar="SPEC",
                        help=f"sample ratios alpha = m / n. {ALPHA_SPEC_HELP}")
    parser.add_argument("--n", type=dimension_spec, metavar="SPEC", help=f"input dimensions n: {N_SPEC_HELP}")
    parser.add_argument("--seeds", type=int_in_range(1, MAX_SEED), metavar="COUNT",
                        help="number of seeds per (alpha, n), an integer >= 1")
    parser.add_argument("--first-seed", type=int_in_range(0, MAX_SEED),
                        help=f"seed of the first instance, an integer in [0, {MAX_SEED}] (default 0)")
    parser.add_argument("--results", required=True, metavar="FILE",
                        help="JSON-lines results file, created if missing and resumed if it contains results "
                             "of the same definition")
    add_gamp_arguments(parser, definition_defaults=False)
    add_execution_arguments(parser)
    parser.set_defaults(handler=run)
    return parser


def add_gamp_arguments(parser, definition_defaults=True):
    """Add the GAMP settings --rho, --variant, --dtype, --damping, --max-iter, --tol and --n-test.

    With ``definition_defaults`` False, every default is None, so that a value from a sweep file
    applies unless the flag is given.
    """
    def default(value):
        return value if definition_defaults else None

    parser.add_argument("--rho", type=float_in_range(1e-6, 1e6, include_maximum=True), default=default(1.0),
                        help="teacher weight variance rho in [1e-6, 1e6] (default 1)")
    parser.add_argument("--variant", choices=VARIANTS, default=default(DEFAULT_VARIANT),
                        help=f"GAMP variant: per_component computes V and Sigma from X**2, scalar from the mean "
                             f"of X**2 with half the matrix products (default {DEFAULT_VARIANT})")
    parser.add_argument("--dtype", choices=DTYPES, default=default("float64"),
                        help="dtype of X in the matrix-vector products; the GAMP state stays float64 "
                             "(default float64)")
    parser.add_argument("--damping", type=float_in_range(0.0, 1.0), default=default(0.0),
                        help="GAMP damping in [0, 1) (default 0)")
    parser.add_argument("--max-iter", type=int_in_range(1, 10**6), default=default(200),
                        help="maximum GAMP iterations per run, an integer in [1, 1000000] (default 200)")
    parser.add_argument("--tol", type=float_in_range(1e-300, 1.0, include_maximum=True), default=default(1e-8),
                        help="convergence threshold on the mean squared change of w_hat, in [1e-300, 1] "
                             "(default 1e-8)")
    parser.add_argument("--n-test", type=int_in_range(1, 10**9), default=default(10_000),
                        help="fresh test samples per run, an integer in [1, 1000000000] (default 10000)")


def add_execution_arguments(parser):
    """Add --jobs, --dask and --progress."""
    cores = available_cores()
    parser.add_argument("--jobs", type=int_in_range(1, 4096), default=cores,
                        help=f"points run at once on local processes (default: the {cores} available cores)")
    parser.add_argument("--dask", metavar="ADDRESS", type=dask_address,
                        help="run the points on the Dask cluster whose scheduler listens at ADDRESS, such as "
                             "tcp://10.0.0.5:8786 (needs the cluster extra; --jobs is then ignored)")
    parser.add_argument("--progress", action="store_true",
                        help="show the progress bar on stderr even when stderr is not a terminal")


def available_cores():
    """Return the number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def dimension_spec(text):
    """Parse a list of input dimensions: ``250,500`` or ``START:STOP:NUM`` (geometric, rounded)."""
    text = text.strip()
    expected = f"invalid value {text!r}: expected {N_SPEC_HELP}"
    if ":" in text:
        fields = [field.strip() for field in text.split(":")]
        try:
            start, stop, count = float(fields[0]), float(fields[1]), int(fields[2])
        except (ValueError, IndexError):
            raise argparse.ArgumentTypeError(expected) from None
        if len(fields) != 3 or count < 1:
            raise argparse.ArgumentTypeError(expected)
        return {"start": start, "stop": stop, "num": count}
    try:
        return [int(item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(expected) from None


def dask_address(text):
    """Parse a Dask scheduler address of the form SCHEME://HOST:PORT."""
    scheme, separator, location = text.partition("://")
    host, colon, port = location.rpartition(":")
    if not (separator and scheme and host and colon and port.isdigit()):
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected a scheduler address such as "
                                         "tcp://10.0.0.5:8786")
    return text


def run(args):
    """Run ``replica-tools sweep`` with parsed ``args`` and return the exit status."""
    definition = resolve_definition(args)
    if args.dask:
        _check_dask_installed()
    progress = None
    if args.progress or sys.stderr.isatty():
        progress = ProgressBar(sys.stderr)

    try:
        records = run_sweep(definition, args.results, jobs=args.jobs, dask_address=args.dask, progress=progress)
    except ResultsFileError as error:
        raise UsageError(f"argument --results: {error}", PROG) from None
    except (IsADirectoryError, FileNotFoundError, NotADirectoryError, PermissionError) as error:
        raise UsageError(f"argument --results: cannot open '{args.results}': {error.strerror}: "
                         "give a file in an existing, writable folder", PROG) from None
    except InsufficientMemoryError as error:
        raise UsageError(f"argument --n: {error}", PROG) from None
    finally:
        if progress is not None:
            progress.close()
    print(format_summary(records, definition))
    return 0


def resolve_definition(args, prog=PROG):
    """Merge the --config file and the flags into a validated ``SweepDefinition``.

    Raises ``UsageError`` naming the flag, or the file and its key, of the first invalid value.
    """
    from_file = {} if args.config is None else read_config(args.config, prog)
    from_flags = {}
    for key, flag in DEFINITION_FLAGS.items():
        value = getattr(args, key, None)
        if value is None:
            continue
        from_flags[key] = list(value.values) if key == "alpha" else value
    # A count of seeds from the flags replaces a list of seeds from the file, with its first seed.
    if "seeds" in from_flags and isinstance(from_file.get("seeds"), list):
        from_file = {key: value for key, value in from_file.items() if key != "seeds"}
    try:
        return parse_definition({**from_file, **from_flags})
    except SweepDefinitionError as error:
        key = error.key.split(".")[0]
        message = str(error).partition(": ")[2]
        if key in from_flags:
            raise UsageError(f"argument {DEFINITION_FLAGS[key]}: {message}", prog) from None
        if key in from_file:
            raise UsageError(f"{args.config}: key '{error.key}': {message}", prog) from None
        flag = DEFINITION_FLAGS.get(key, key)
        raise UsageError(f"missing {key}: give {flag} or set {key} in a --config file", prog) from None


def read_config(path, prog=PROG):
    """Read a TOML sweep file and return its table, or raise ``UsageError``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except OSError as error:
        raise UsageError(f"argument --config: cannot read '{path}': {error.strerror or error}", prog) from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"argument --config: '{path}' is not valid TOML: {error}", prog) from None


def _check_dask_installed():
    if importlib.util.find_spec("distributed") is None:
        raise UsageError("argument --dask: Dask is not installed: pip install 'replica_tools[cluster]'", PROG)


def format_summary(records, definition):
    """Return the table of mean errors per (alpha, n) with the state-evolution eps_Bayes."""
    from replica_tools.solvers.state_evolution import solve_fixed_point

    summary = summarize_sweep(records)
    theory = solve_fixed_point(numpy_model(definition.rho), sorted(set(summary["alpha"])))
    eps_at = dict(zip(theory.alpha.tolist(), theory.eps_bayes.tolist()))
    columns = [
        ("alpha", summary["alpha"]), ("n", summary["n"]), ("runs", summary["runs_used"]),
        ("diverged", summary["runs_diverged"]),
        ("eps mean", summary["eps_mean"], 4), ("eps sem", summary["eps_sem"], 3),
        ("overlap eps mean", summary["overlap_eps_mean"], 5), ("overlap eps sem", summary["overlap_eps_sem"], 3),
        ("SE eps_Bayes", [eps_at[alpha] for alpha in summary["alpha"]], 5),
    ]
    total_seconds = sum(record["seconds"] for record in records)
    heading = (f"GAMP sweep ({definition.variant}, {definition.dtype}, rho = {definition.rho:g}): "
               f"{len(records)} points, {total_seconds:.1f} s of compute in total. eps is the test error on "
               f"{definition.n_test} fresh samples, overlap eps the expected test error "
               "arccos(m / sqrt(rho_hat q)) / pi.")
    return heading + "\n\n" + format_table(columns)


class ProgressBar:
    """A one-line progress bar on a text stream, redrawn after each finished point."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.start = time.monotonic()
        self.initial = None
        self.drawn = False

    def __call__(self, done, total, record):
        if self.initial is None:
            self.initial = done
        elapsed = time.monotonic() - self.start
        ran = done - self.initial
        filled = self.WIDTH * done // max(1, total)
        text = f"\rsweep [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} points"
        if self.initial:
            text += f" ({self.initial} from the results file)"
        text += f", {_clock(elapsed)} elapsed"
        if ran and done < total:
            text += f", about {_clock(elapsed / ran * (total - done))} left"
        self.stream.write(text + "\033[K")
        self.stream.flush()
        self.drawn = True

    def close(self):
        """End the bar's line."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds):
    return str(datetime.timedelta(seconds=round(seconds)))
