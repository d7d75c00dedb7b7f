"""``replica-tools curve``: the learning curve eps(alpha) of the teacher-student perceptron.

Theory comes from the state-evolution fixed point on a fine alpha grid. GAMP runs on finite
instances at a few alphas over several seeds. The large-alpha asymptote C / alpha is drawn for
comparison. Results go to stdout (a table, or JSON with ``--json``) and to an output folder
(CSV, JSON and PNG); GAMP progress goes to stderr.
"""

import contextlib
import datetime
import functools
import logging
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from replica_tools.cli.arguments import (
    ALPHA_RANGE_TEXT,
    ALPHA_SPEC_HELP,
    RHO_RANGE_TEXT,
    TESTED_RANGE_REASON,
    UsageError,
    add_model_arguments,
    alpha_list,
    alpha_spec,
    check_output_folder,
    float_in_range,
    int_in_range,
    model_from_args,
    output_folder,
)
from replica_tools.numerics.compiled import NumpyModel
from replica_tools.reports.files import OutputFolder, dumps_json
from replica_tools.reports.plots import plot_learning_curve
from replica_tools.reports.tables import format_csv, format_table
from replica_tools.solvers import gamp
from replica_tools.solvers.asymptotics import bayes_constant
from replica_tools.solvers.branches import equilibrium, follow_branches, same_fixed_point
from replica_tools.solvers.gamp import POINT_MASS_DAMPING, default_damping
from replica_tools.solvers.learning_curve import (
    gamp_memory_bytes,
    largest_gamp_dimension,
    run_gamp_grid,
    summarize_gamp,
)
from replica_tools.solvers.state_evolution import TESTED_RHO, maps_for, solve_fixed_point
from replica_tools.solvers.thresholds import locate_thresholds
from replica_tools.symbolic import perceptron

logger = logging.getLogger(__name__)

PROG = "replica-tools curve"
DEFAULT_ALPHA_SPEC = "0.25:10:200"
DEFAULT_GAMP_POINTS = 10
# An explicit --alpha list up to this length is also the list of GAMP alphas.
MAX_EXPLICIT_GAMP_POINTS = 12
DEFAULT_OUTPUT_PARENT = "replica-tools-out"
MAX_N = 10**8
MAX_SEEDS = 10_000
# NumPy accepts larger seeds, but 2^32 first seeds give more distinct instances than a study needs.
MAX_FIRST_SEED = 2**32 - 1
# Digits of the asymptote constant C. Twenty are more than a float keeps, and the first call
# takes about 2 s, most of it the symbolic expansion (measured on a 2-core machine).
ASYMPTOTE_DIGITS = 20
MODEL_DESCRIPTION = "teacher-student perceptron (sign channel, Gaussian prior N(0, rho)), Bayes-optimal student"

THEORY_CSV = "theory.csv"
GAMP_CSV = "gamp.csv"
GAMP_RUNS_CSV = "gamp_runs.csv"
RESULT_JSON = "curve.json"
PLOT_PNG = "curve.png"


def add_parser(subparsers):
    """Add the ``curve`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "curve",
        help="learning curve eps(alpha) of the perceptron: theory, GAMP and the asymptote",
        description="Compute the generalization error eps(alpha) of the Bayes-optimal student in "
                    "the teacher-student perceptron, from state evolution and from GAMP on finite "
                    "instances, and write a table, CSV, JSON and a plot. With --prior and --channel, "
                    "the same for another model of the catalog: eps of the equilibrium branch, the "
                    "branch GAMP follows where it differs, and the thresholds alpha_IT and alpha_alg.",
    )
    parser.add_argument("--alpha", type=alpha_spec, default=alpha_spec(DEFAULT_ALPHA_SPEC), metavar="SPEC",
                        help=f"theory grid of sample ratios alpha = m / n (default {DEFAULT_ALPHA_SPEC}). "
                             f"{ALPHA_SPEC_HELP}")
    parser.add_argument("--rho", type=float_in_range(*TESTED_RHO, include_maximum=True, reason=TESTED_RANGE_REASON),
                        default=None,
                        help=f"for the Gaussian prior, the teacher weight variance rho in {RHO_RANGE_TEXT}, "
                             f"{TESTED_RANGE_REASON} (default 1); for the gauss-bernoulli prior, the fraction "
                             "rho of nonzero weights in [0.001, 1] (default 0.5)")
    add_model_arguments(parser)

    gamp_group = parser.add_mutually_exclusive_group()
    gamp_group.add_argument("--gamp-alpha", type=alpha_list, metavar="LIST",
                            help=f"comma-separated alphas at which GAMP runs, each in {ALPHA_RANGE_TEXT} "
                                 "(default: the --alpha list "
                                 f"if it has at most {MAX_EXPLICIT_GAMP_POINTS} values, otherwise "
                                 f"{DEFAULT_GAMP_POINTS} points spread over the grid)")
    gamp_group.add_argument("--no-gamp", action="store_true", help="compute the theory only")

    parser.add_argument("--n", type=int_in_range(2, MAX_N), default=1000,
                        help=f"input dimension n of each GAMP instance, an integer in [2, {MAX_N}] (default 1000). "
                             "The instances must also fit in the physical memory: X takes "
                             "8 * m * n bytes, with m = round(alpha n) at the largest GAMP alpha")
    parser.add_argument("--seeds", type=int_in_range(1, MAX_SEEDS), default=4,
                        help=f"number of GAMP instances (seeds) per alpha, an integer in [1, {MAX_SEEDS}] "
                             "(default 4)")
    parser.add_argument("--first-seed", type=int_in_range(0, MAX_FIRST_SEED), default=0,
                        help=f"seed of the first instance, an integer in [0, {MAX_FIRST_SEED}] (default 0). "
                             "The seeds are consecutive")
    parser.add_argument("--damping", type=float_in_range(0.0, 1.0), default=None,
                        help=f"GAMP damping in [0, 1) (default 0, or {POINT_MASS_DAMPING:g} for a prior with point "
                             "masses, where undamped GAMP reaches v = 0 and stops)")
    parser.add_argument("--max-iter", type=int_in_range(1), default=200,
                        help="maximum GAMP iterations per run, an integer >= 1 (default 200)")

    parser.add_argument("--out", type=output_folder, metavar="DIR",
                        help=f"output folder, created if missing (default: a new folder "
                             f"{DEFAULT_OUTPUT_PARENT}/curve-YYYYMMDD-HHMMSS in the current folder)")
    parser.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout instead of the table")
    parser.add_argument("--quiet", action="store_true", help="do not show GAMP progress on stderr")

    parser.set_defaults(handler=run)
    return parser


@dataclass(frozen=True)
class CurveSettings:
    """Validated settings of one ``curve`` run."""

    alpha: np.ndarray
    rho: float
    prior: str
    channel: str
    model: object
    gamp_alpha: np.ndarray
    n: int
    seeds: tuple
    damping: float
    max_iter: int
    out: Path
    out_is_default: bool


def run(args):
    """Run ``replica-tools curve`` with parsed ``args`` and return the exit status."""
    settings = resolve_settings(args)
    check_output_folder(settings.out, prog=PROG)

    reference = _is_reference_model(settings)
    constant = float(bayes_constant(digits=ASYMPTOTE_DIGITS)) if reference else None
    nm = compile_model(settings.rho) if reference else compile_catalog_model(settings.model, settings.rho)
    if settings.damping is None:
        settings = replace(settings, damping=default_damping(nm))
    table_alpha = settings.gamp_alpha if settings.gamp_alpha.size else _spread(settings.alpha, DEFAULT_GAMP_POINTS)
    if reference:
        theory, table_theory = _solve_theory(nm, settings.alpha), _solve_theory(nm, table_alpha)
    else:
        thresholds = locate_thresholds(nm)
        theory = _solve_branch_theory(nm, settings.alpha, thresholds)
        table_theory = _solve_branch_theory(nm, table_alpha, thresholds)
    runs = _run_gamp(nm, settings, quiet=args.quiet)

    result = build_result(settings, theory, table_theory, runs, constant)
    if not reference:
        result.update(_branch_result(nm, settings, theory, thresholds))
    out = _unique_folder(settings.out) if settings.out_is_default else settings.out
    result["output_dir"] = str(out)
    _write_outputs(out, result)

    if args.json:
        sys.stdout.write(dumps_json(result))
    else:
        print(format_report(result))
    return 0


def resolve_settings(args):
    """Validate the parsed arguments together and return ``CurveSettings``.

    Raises ``UsageError`` for a combination that no single flag's validator can reject.
    """
    grid = args.alpha.values
    if args.no_gamp:
        gamp_alpha = np.array([])
    elif args.gamp_alpha is not None:
        gamp_alpha = args.gamp_alpha
    elif args.alpha.explicit and grid.size <= MAX_EXPLICIT_GAMP_POINTS:
        gamp_alpha = grid
    else:
        gamp_alpha = _spread(grid, DEFAULT_GAMP_POINTS)

    if gamp_alpha.size:
        smallest = float(gamp_alpha.min())
        if round(smallest * args.n) < 1:
            flag = "--gamp-alpha" if args.gamp_alpha is not None else "--alpha"
            raise UsageError(f"argument {flag}: alpha = {smallest:g} with --n {args.n} gives "
                             "m = round(alpha n) = 0 samples: raise alpha or --n", prog=PROG)
        _check_gamp_memory(float(gamp_alpha.max()), args.n)

    out_is_default = args.out is None
    if out_is_default:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(DEFAULT_OUTPUT_PARENT) / f"curve-{stamp}"
    else:
        out = args.out
    seeds = tuple(range(args.first_seed, args.first_seed + args.seeds))
    model = model_from_args(args, PROG)
    return CurveSettings(alpha=grid, rho=float(model.rho), prior=args.prior, channel=args.channel, model=model,
                         gamp_alpha=np.asarray(gamp_alpha, dtype=float), n=args.n,
                         seeds=seeds, damping=args.damping, max_iter=args.max_iter, out=out,
                         out_is_default=out_is_default)


def _check_gamp_memory(alpha, n):
    """Raise ``UsageError`` if one GAMP instance at ``alpha`` and ``n`` exceeds the physical memory."""
    available = physical_memory_bytes()
    needed = gamp_memory_bytes(alpha, n)
    if available is None or needed <= available:
        return
    largest = largest_gamp_dimension(alpha, available)
    raise UsageError(
        f"argument --n: invalid value {n}: GAMP at alpha = {alpha:g} needs about {_format_bytes(needed)} "
        f"(X with m = {round(alpha * n)} rows), more than the {_format_bytes(available)} of physical "
        f"memory. The largest n that fits at this alpha is {largest}", prog=PROG)


def physical_memory_bytes():
    """Return the machine's physical memory in bytes, or None where ``os.sysconf`` cannot tell."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _format_bytes(count):
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count / 1e3:.3g} kB"


def _spread(grid, count):
    """Pick about ``count`` points of ``grid`` at evenly spaced indices, ends included."""
    if grid.size <= count:
        return grid.copy()
    indices = np.unique(np.round(np.linspace(0, grid.size - 1, count)).astype(int))
    return grid[indices]


@functools.lru_cache(maxsize=4)
def compile_model(rho):
    """Derive the perceptron symbolically and compile it for NumPy at ``rho`` (cached per rho)."""
    return NumpyModel(perceptron(), rho)


def _solve_theory(nm, alpha):
    return solve_fixed_point(nm, np.asarray(alpha, dtype=float))


def _is_reference_model(settings):
    """Return whether the run is of the reference perceptron, whose curve has the C / alpha asymptote."""
    return settings.prior == "gaussian" and settings.channel == "sign"


def compile_catalog_model(model, rho):
    """Compile a model of the catalog for NumPy at its numeric rho."""
    return NumpyModel(model, rho)


@dataclass(frozen=True)
class BranchTheory:
    """The equilibrium fixed point per alpha, and the branch that GAMP from a random start follows.

    ``q``, ``qhat``, ``eps_bayes`` and ``eps_gibbs`` are those of the equilibrium (the branch of
    largest free entropy). ``gamp_branch_eps_bayes`` is eps_Bayes of the fixed point reached
    from the uninformative start, and ``branch_count`` is 2 where the starts reach different
    fixed points.
    """

    alpha: np.ndarray
    q: np.ndarray
    qhat: np.ndarray
    eps_bayes: np.ndarray
    eps_gibbs: np.ndarray
    gamp_branch_eps_bayes: np.ndarray
    equilibrium_branch: np.ndarray
    branch_count: np.ndarray
    phi: np.ndarray


def _solve_branch_theory(nm, alpha, thresholds):
    branches = follow_branches(nm, np.asarray(alpha, dtype=float))
    uninformative, informed = branches["uninformative"], branches["informed"]
    ends = [fold.qhat for fold in thresholds.folds if fold.kind == "max"]
    _, phi, _, which = equilibrium(branches, informed_qhat=ends[0] if ends else None)
    informed_wins = which == "informed"

    def pick(name):
        return np.where(informed_wins, getattr(informed, name), getattr(uninformative, name))

    count = np.where(same_fixed_point(uninformative, informed), 1, 2)
    return BranchTheory(alpha=uninformative.alpha, q=pick("q"), qhat=pick("qhat"), eps_bayes=pick("eps_bayes"),
                        eps_gibbs=pick("eps_gibbs"), gamp_branch_eps_bayes=uninformative.eps_bayes,
                        equilibrium_branch=which, branch_count=count, phi=phi)


def _branch_result(nm, settings, theory, thresholds):
    """Return the result keys of a model other than the reference perceptron."""
    return {
        "prior": settings.prior,
        "channel": settings.channel,
        "numeric_objects": list(maps_for(nm).numeric_objects),
        "phi": theory.phi,
        "gamp_branch_eps_bayes": theory.gamp_branch_eps_bayes,
        "equilibrium_branch": [str(name) for name in theory.equilibrium_branch],
        "branch_count": theory.branch_count,
        "alpha_it": thresholds.alpha_it,
        "alpha_alg": thresholds.alpha_alg,
        "threshold_reasons": dict(thresholds.reasons),
    }


# ---------------------------------------------------------------------------------------------
# GAMP


def _run_gamp(nm, settings, quiet):
    """Run GAMP on the settings' grid, with progress on stderr unless ``quiet``, and return the runs.

    The library logs a warning for each run that reaches --max-iter, without its alpha or seed.
    Those warnings are dropped, because the progress lines mark such runs and one summary line
    follows the grid.
    """
    total = settings.gamp_alpha.size * len(settings.seeds)
    progress = None if quiet else GampProgress(sys.stderr, total)
    with _without_gamp_warnings():
        try:
            runs = run_gamp_grid(nm, settings.gamp_alpha, settings.seeds, n=settings.n,
                                 damping=settings.damping, max_iter=settings.max_iter, progress=progress)
        except MemoryError:
            raise RuntimeError(f"GAMP ran out of memory for instances of n = {settings.n}: lower --n") from None

    not_converged = sum(gamp_run.status == "not_converged" for gamp_run in runs)
    if not_converged:
        pronoun = "it enters" if not_converged == 1 else "they enter"
        print(f"{PROG}: warning: {not_converged} of {_count(total, 'GAMP run')} did not converge within "
              f"--max-iter {settings.max_iter} ({pronoun} the mean); raise --max-iter or --damping",
              file=sys.stderr)
    return runs


@contextlib.contextmanager
def _without_gamp_warnings():
    """Drop the warnings of ``replica_tools.solvers.gamp`` inside the block, and pass lower levels."""
    gamp_logger = logging.getLogger(gamp.__name__)

    def below_warning(record):
        return record.levelno < logging.WARNING

    gamp_logger.addFilter(below_warning)
    try:
        yield
    finally:
        gamp_logger.removeFilter(below_warning)


def _count(count, noun):
    """Return ``count`` with ``noun`` in the singular or plural: 1 seed, 2 seeds."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class GampProgress:
    """GAMP progress on a text stream: one line per run, and live iteration counts on a terminal."""

    def __init__(self, stream, total):
        self.stream = stream
        self.total = total
        self.index = 0
        self.live = bool(getattr(stream, "isatty", lambda: False)())

    def start(self, alpha, seed):
        """Count a new run and return its ``progress(iteration, m, q)`` callback, or None."""
        self.index += 1
        if not self.live:
            return None

        def report(iteration, m, q):
            self.stream.write(f"\r{self._prefix(alpha, seed)} iteration {iteration}, q = {q:.4f}\033[K")
            self.stream.flush()

        return report

    def finish(self, gamp_run):
        """Write the closing line of the current run."""
        if gamp_run.status == "diverged":
            outcome = f"diverged, left out of the mean ({gamp_run.message})"
        else:
            outcome = f"{_count(gamp_run.iterations, 'iteration')}, test error {gamp_run.test_error:.4f}"
            if gamp_run.status == "not_converged":
                outcome += " (not converged)"
        # On a terminal, overwrite the live line and clear what is left of it (ANSI erase line).
        start, end = ("\r", "\033[K\n") if self.live else ("", "\n")
        self.stream.write(f"{start}{self._prefix(gamp_run.alpha, gamp_run.seed)} {outcome}{end}")
        self.stream.flush()

    def _prefix(self, alpha, seed):
        return f"GAMP run {self.index}/{self.total}, alpha = {alpha:.4g}, seed {seed}:"


# ---------------------------------------------------------------------------------------------
# Result and outputs


def build_result(settings, theory, table_theory, runs, constant):
    """Collect theory, GAMP summary and settings into the JSON-ready result dictionary."""
    result = {
        "command": "curve",
        "model": MODEL_DESCRIPTION if constant is not None else _model_description(settings),
        "rho": settings.rho,
        "alpha": np.asarray(theory.alpha),
        "q": np.asarray(theory.q),
        "qhat": np.asarray(theory.qhat),
        "eps_bayes": np.asarray(theory.eps_bayes),
        "eps_gibbs": np.asarray(theory.eps_gibbs),
        "asymptote_constant": constant,
        "table": {
            "alpha": np.asarray(table_theory.alpha),
            "q": np.asarray(table_theory.q),
            "qhat": np.asarray(table_theory.qhat),
            "eps_bayes": np.asarray(table_theory.eps_bayes),
            "eps_gibbs": np.asarray(table_theory.eps_gibbs),
        },
    }
    if isinstance(table_theory, BranchTheory):
        result["table"]["gamp_branch_eps_bayes"] = np.asarray(table_theory.gamp_branch_eps_bayes)
    if settings.gamp_alpha.size:
        summary = summarize_gamp(settings.gamp_alpha, runs)
        result.update({
            "gamp_n": settings.n,
            "gamp_seeds": list(settings.seeds),
            "gamp_damping": settings.damping,
            "gamp_max_iter": settings.max_iter,
            "gamp_alpha": settings.gamp_alpha,
            "gamp_eps_mean": summary["eps_mean"],
            "gamp_eps_sem": summary["eps_sem"],
            "gamp_overlap_eps_mean": summary["overlap_eps_mean"],
            "gamp_overlap_eps_sem": summary["overlap_eps_sem"],
            "gamp_runs_used": summary["runs_used"],
            "gamp_runs_diverged": summary["runs_diverged"],
            "gamp_runs_not_converged": summary["runs_not_converged"],
            "gamp_runs": [
                {"alpha": r.alpha, "seed": r.seed, "status": r.status, "iterations": r.iterations,
                 "test_error": r.test_error, "overlap_error": r.overlap_error, "message": r.message}
                for r in runs
            ],
        })
    return result


def _model_description(settings):
    return (f"teacher-student model with prior {settings.prior} and channel {settings.channel}, "
            "Bayes-optimal student")


def _unique_folder(path):
    """Return ``path``, or ``path-2``, ``path-3``, ... if it exists (two runs in the same second)."""
    candidate = path
    suffix = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{suffix}")
        suffix += 1
    return candidate


def _write_outputs(out, result):
    files = render_files(result)
    existed = out.is_dir()
    try:
        with OutputFolder(out) as folder:
            for name, data in files.items():
                folder.add(name, data)
    except OSError as error:
        # check_output_folder passed, so the system refused what os.access allowed, as in /proc
        # or on a full or read-only disk.
        problem = "the files cannot be written into it" if existed else "the folder cannot be created or written"
        raise UsageError(f"argument --out: invalid value '{out}': {problem} ({error.strerror or error}): "
                         "choose a writable folder", prog=PROG) from None


def render_files(result):
    """Return the output files as an ordered mapping of file name to text or PNG bytes."""
    constant = result["asymptote_constant"]
    alpha = result["alpha"]
    columns = [("alpha", alpha), ("q", result["q"]), ("qhat", result["qhat"]),
               ("eps_bayes", result["eps_bayes"]), ("eps_gibbs", result["eps_gibbs"])]
    if constant is not None:
        columns.append(("eps_asymptote", constant / alpha))
    if "gamp_branch_eps_bayes" in result:
        columns += [("gamp_branch_eps_bayes", result["gamp_branch_eps_bayes"]), ("phi", result["phi"]),
                    ("branch_count", result["branch_count"])]
    files = {THEORY_CSV: format_csv(columns)}
    has_gamp = "gamp_alpha" in result
    if has_gamp:
        files[GAMP_CSV] = format_csv([
            ("alpha", result["gamp_alpha"]), ("theory_eps_bayes", result["table"]["eps_bayes"]),
            ("eps_mean", result["gamp_eps_mean"]), ("eps_sem", result["gamp_eps_sem"]),
            ("overlap_eps_mean", result["gamp_overlap_eps_mean"]),
            ("overlap_eps_sem", result["gamp_overlap_eps_sem"]),
            ("runs_used", result["gamp_runs_used"]), ("runs_diverged", result["gamp_runs_diverged"]),
            ("runs_not_converged", result["gamp_runs_not_converged"]),
        ])
        runs = result["gamp_runs"]
        files[GAMP_RUNS_CSV] = format_csv([
            (key, [gamp_run[key] for gamp_run in runs])
            for key in ("alpha", "seed", "status", "iterations", "test_error", "overlap_error")
        ])
    files[PLOT_PNG] = plot_learning_curve(
        alpha, result["eps_bayes"],
        gamp_alpha=result.get("gamp_alpha"), gamp_mean=result.get("gamp_eps_mean"),
        gamp_sem=result.get("gamp_eps_sem"), asymptote_constant=constant,
        title=_plot_title(result), gamp_branch_eps=_differing_gamp_branch(result),
        transitions=_transitions(result),
    )
    # The JSON lists the files, itself included, so it is rendered last.
    result["files"] = list(files) + [RESULT_JSON]
    files[RESULT_JSON] = dumps_json(result)
    return files


def _differing_gamp_branch(result):
    """Return eps_Bayes of GAMP's branch where it differs from the equilibrium (NaN elsewhere), or None."""
    if "gamp_branch_eps_bayes" not in result:
        return None
    gamp_branch = np.asarray(result["gamp_branch_eps_bayes"], dtype=float)
    differs = np.abs(gamp_branch - np.asarray(result["eps_bayes"], dtype=float)) > 1e-12
    if not differs.any():
        return None
    return np.where(differs, gamp_branch, np.nan)


def _transitions(result):
    transitions = {}
    for key, label in (("alpha_it", r"$\alpha_\mathrm{IT}$"), ("alpha_alg", r"$\alpha_\mathrm{alg}$")):
        if result.get(key) is not None:
            transitions[label] = result[key]
    return transitions


def _plot_title(result):
    if "prior" in result:
        title = f"Bayes-optimal student, prior {result['prior']}, channel {result['channel']}"
        if "gamp_alpha" in result:
            title += f", GAMP at n = {result['gamp_n']}"
        return title
    title = rf"Bayes-optimal perceptron, $\rho = {result['rho']:g}$"
    if "gamp_alpha" in result:
        title += f", GAMP at n = {result['gamp_n']} over {_count(len(result['gamp_seeds']), 'seed')}"
    return title


def format_report(result):
    """Return the text report: a heading, the table at the GAMP alphas and the output folder."""
    table = result["table"]
    constant = result["asymptote_constant"]
    columns = [
        ("alpha", table["alpha"]), ("q", table["q"]), ("qhat", table["qhat"]),
        ("eps_Bayes", table["eps_bayes"]), ("eps_Gibbs", table["eps_gibbs"]),
    ]
    if constant is not None:
        columns.append(("C/alpha", constant / table["alpha"]))
    if "gamp_branch_eps_bayes" in table:
        columns.append(("GAMP branch", table["gamp_branch_eps_bayes"]))
    heading = [f"Learning curve of the {result['model']}, rho = {result['rho']:g}.",
               _theory_heading(result["alpha"], table["alpha"], "gamp_alpha" in result)]
    if "gamp_alpha" in result:
        # Four digits, because the standard error limits the significant ones to about two.
        columns += [("GAMP mean", result["gamp_eps_mean"], 4), ("GAMP sem", result["gamp_eps_sem"], 4),
                    ("runs", result["gamp_runs_used"])]
        heading.append(f"GAMP: n = {result['gamp_n']}, {_count(len(result['gamp_seeds']), 'seed')} per alpha, "
                       "test error on fresh samples. The runs column counts the seeds that did not diverge.")
    lines = heading + ["", format_table(columns), ""]
    if constant is not None:
        lines.append(f"Large-alpha asymptote: eps_Bayes ~ C / alpha with C = {constant:.6f}.")
    if "alpha_it" in result:
        lines.extend(_threshold_lines(result))
    lines.append(f"Output folder: {result['output_dir']} ({', '.join(result['files'])})")
    return "\n".join(lines)


def _threshold_lines(result):
    lines = ["eps_Bayes is that of the equilibrium, the fixed point of largest free entropy."]
    for key, name in (("alpha_it", "alpha_IT"), ("alpha_alg", "alpha_alg")):
        value = result[key]
        lines.append(f"{name} = {value:.10f}" if value is not None
                     else f"{name}: none, {result['threshold_reasons'].get(key, 'not located')}")
    return lines


def _theory_heading(alpha, table_alpha, has_gamp):
    """Say where the state evolution was solved: on the grid, and at the rows of the table."""
    if len(alpha) == 1:
        grid = f"Theory: state evolution at alpha = {alpha[0]:g}, written to {THEORY_CSV}."
    else:
        grid = (f"Theory: state evolution at {len(alpha)} alphas in [{alpha.min():g}, {alpha.max():g}], "
                f"all written to {THEORY_CSV}.")
    if has_gamp:
        gamp_alphas = "the GAMP alpha" if len(table_alpha) == 1 else f"the {len(table_alpha)} GAMP alphas"
        rows = f"The table shows it at {gamp_alphas}."
    elif len(table_alpha) == len(alpha):
        rows = "The table shows every one of them." if len(alpha) > 1 else ""
    else:
        rows = f"The table shows {len(table_alpha)} of them, spread over the grid."
    return f"{grid} {rows}".rstrip()
