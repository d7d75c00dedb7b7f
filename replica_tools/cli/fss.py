"""``replica-tools fss``: finite-size scaling of GAMP's error at one alpha, against state evolution.

GAMP runs at every n of a geometric range with many seeds (a resumable sweep), the mean error
is fitted by eps(n) = eps_inf + a / n, and eps_inf is compared with eps_Bayes of state
evolution. The same runs give the per-iteration comparison of m_t and q_t with SE. A table goes
to stdout; CSV, JSON and two figures go to the output folder, next to the runs' JSON-lines file.
"""

import datetime
import math
import sys
from pathlib import Path

import numpy as np

from replica_tools.cli.arguments import UsageError, check_output_folder, float_in_range, int_in_range, output_folder
from replica_tools.cli.sweep import (
    N_SPEC_HELP,
    ProgressBar,
    add_execution_arguments,
    add_gamp_arguments,
    dimension_spec,
)
from replica_tools.reports.files import dumps_json, write_atomic
from replica_tools.reports.gamp_plots import plot_finite_size, plot_trajectories
from replica_tools.reports.tables import format_csv, format_table
from replica_tools.solvers.fss import ERROR_FIELDS, finite_size_scaling, geometric_dimensions
from replica_tools.solvers.gamp import InsufficientMemoryError, check_instance_memory
from replica_tools.solvers.state_evolution import TESTED_ALPHA
from replica_tools.solvers.sweep import MAX_SEED, ResultsFileError, SweepDefinitionError, numpy_model

PROG = "replica-tools fss"
DEFAULT_N = "250:4000:5"
DEFAULT_OUTPUT_PARENT = "replica-tools-out"
RUNS_FOLDER = "fss-runs"
TABLE_CSV = "fss.csv"
TRAJECTORY_CSV = "fss-trajectory.csv"
RESULT_JSON = "fss.json"
FIT_PNG = "fss.png"
TRAJECTORY_PNG = "fss-trajectory.png"
# z of a two-sided 95% interval of a normal distribution.
Z_95 = 1.959963984540054


def add_parser(subparsers):
    """Add the ``fss`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "fss",
        help="finite-size scaling of GAMP's error at one alpha: fit eps_inf + a / n, compare with SE",
        description="Run GAMP at one alpha over a geometric range of n with many seeds, fit the mean "
                    "error by eps(n) = eps_inf + a / n, compare eps_inf with state evolution, and "
                    "compare m_t and q_t with state evolution at every iteration.",
    )
    parser.add_argument("--alpha", required=True,
                        type=float_in_range(*TESTED_ALPHA, include_maximum=True,
                                            reason="the range over which the state evolution is tested"),
                        help="sample ratio alpha = m / n")
    parser.add_argument("--n", type=dimension_spec, default=dimension_spec(DEFAULT_N), metavar="SPEC",
                        help=f"input dimensions (default {DEFAULT_N}): {N_SPEC_HELP}. At least 2 distinct values")
    parser.add_argument("--seeds", type=int_in_range(2, 100_000), default=16,
                        help="seeds per n, an integer >= 2 (default 16)")
    parser.add_argument("--first-seed", type=int_in_range(0, MAX_SEED - 10**7), default=0,
                        help="seed of the first instance (default 0). The k-th n runs the next --seeds "
                             "consecutive seeds after those of the (k-1)-th, so that the n are independent")
    parser.add_argument("--error", choices=tuple(ERROR_FIELDS), default="overlap",
                        help="error that is fitted: overlap, the expected test error arccos(m / sqrt(rho_hat "
                             "q)) / pi of each estimate, or test, measured on --n-test fresh samples "
                             "(default overlap)")
    parser.add_argument("--steps", type=int_in_range(1, 1000), default=10,
                        help="iterations in the per-iteration comparison with SE (default 10)")
    parser.add_argument("--out", type=output_folder, metavar="DIR",
                        help=f"output folder, created if missing; the runs in its {RUNS_FOLDER} folder "
                             f"(one JSON-lines file per n) are resumed when the settings match (default: a new folder {DEFAULT_OUTPUT_PARENT}/fss-YYYYMMDD-HHMMSS)")
    add_gamp_arguments(parser)
    add_execution_arguments(parser)
    parser.set_defaults(handler=run)
    return parser


def run(args):
    """Run ``replica-tools fss`` with parsed ``args`` and return the exit status."""
    n_values = _resolve_dimensions(args.n)
    if round(args.alpha * n_values[0]) < 1:
        raise UsageError(f"argument --alpha: alpha = {args.alpha:g} with n = {n_values[0]} gives m = 0 samples: "
                         "raise alpha or n", PROG)
    out = args.out
    if out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(DEFAULT_OUTPUT_PARENT) / f"fss-{stamp}"
    check_output_folder(out, prog=PROG)
    # Checked before the folder is created, so that a run too large for the memory leaves nothing.
    largest_n = max(n_values)
    try:
        check_instance_memory(round(args.alpha * largest_n), largest_n, args.dtype)
    except InsufficientMemoryError as error:
        raise UsageError(f"argument --n: {error}", PROG) from None
    # The runs' files must persist between attempts, so the folder is created up front.
    out.mkdir(parents=True, exist_ok=True)

    nm = numpy_model(args.rho)
    progress = ProgressBar(sys.stderr) if args.progress or sys.stderr.isatty() else None
    settings = {"variant": args.variant, "dtype": args.dtype, "damping": args.damping, "max_iter": args.max_iter,
                "tol": args.tol, "n_test": args.n_test}
    try:
        study = finite_size_scaling(nm, args.alpha, n_values, args.seeds, out / RUNS_FOLDER,
                                    first_seed=args.first_seed, error=args.error, steps=args.steps, jobs=args.jobs, dask_address=args.dask, progress=progress,
                                    **settings)
    except ResultsFileError as error:
        raise UsageError(f"argument --out: {error}", PROG) from None
    except InsufficientMemoryError as error:
        raise UsageError(f"argument --n: {error}", PROG) from None
    except SweepDefinitionError as error:
        raise UsageError(str(error), PROG) from None
    finally:
        if progress is not None:
            progress.close()

    result = build_result(study, args, out)
    for name, data in render_files(study, result).items():
        write_atomic(out / name, data)
    print(format_report(study, result))
    return 0


def _resolve_dimensions(spec):
    if isinstance(spec, dict):
        if not 2 <= spec["start"] < spec["stop"]:
            raise UsageError(f"argument --n: START = {spec['start']:g} must be >= 2 and < STOP = {spec['stop']:g}",
                             PROG)
        values = geometric_dimensions(spec["start"], spec["stop"], spec["num"])
    else:
        values = sorted(set(spec))
    if len(values) < 2:
        raise UsageError(f"argument --n: the fit needs at least 2 distinct n, got {values}", PROG)
    if values[0] < 2:
        raise UsageError(f"argument --n: n = {values[0]} is invalid: expected integers >= 2", PROG)
    return values


def build_result(study, args, out):
    """Collect the study into the JSON-ready result dictionary."""
    fit = study.fit
    return {
        "command": "fss",
        "alpha": study.alpha,
        "rho": study.rho,
        "error": study.error,
        "variant": args.variant,
        "dtype": args.dtype,
        "seeds": args.seeds,
        "first_seed": args.first_seed,
        "n": study.n,
        "runs_used": study.runs,
        "runs_diverged": study.diverged,
        "eps_mean": study.mean,
        "eps_sem": study.sem,
        "fit": {
            "eps_inf": fit.eps_inf, "eps_inf_sem": fit.eps_inf_error,
            "eps_inf_95": [fit.eps_inf - Z_95 * fit.eps_inf_error, fit.eps_inf + Z_95 * fit.eps_inf_error],
            "a": fit.slope, "a_sem": fit.slope_error, "chi2": fit.chi2, "dof": fit.dof,
            "correlation": fit.correlation,
        },
        "eps_se": study.eps_se,
        "deviation_in_sem": study.deviation,
        "steps": study.steps,
        "q_se": study.q_se,
        "trajectory": {str(n): curves for n, curves in study.trajectory.items()},
        "output_dir": str(out),
        "runs_folder": RUNS_FOLDER,
    }


def render_files(study, result):
    """Return the output files as a mapping of file name to text or PNG bytes."""
    files = {
        TABLE_CSV: format_csv([
            ("n", study.n), ("runs_used", study.runs), ("runs_diverged", study.diverged),
            ("eps_mean", study.mean), ("eps_sem", study.sem), ("fit", study.fit.predict(study.n)),
        ]),
    }
    rows = {"n": [], "t": [], "q_se": [], "m_mean": [], "m_sem": [], "q_mean": [], "q_sem": []}
    for n, curves in study.trajectory.items():
        for t in range(len(curves["m_mean"])):
            rows["n"].append(n)
            rows["t"].append(t)
            rows["q_se"].append(study.q_se[t])
            for key in ("m_mean", "m_sem", "q_mean", "q_sem"):
                rows[key].append(curves[key][t])
    files[TRAJECTORY_CSV] = format_csv(list(rows.items()))
    title = (rf"GAMP ({result['variant']}, {result['dtype']}) at $\alpha = {study.alpha:g}$, "
             f"{result['seeds']} seeds per n")
    fit = study.fit
    files[FIT_PNG] = plot_finite_size(study.n, study.mean, study.sem, eps_inf=fit.eps_inf,
                                      eps_inf_error=fit.eps_inf_error, slope=fit.slope, eps_se=study.eps_se,
                                      title=title)
    files[TRAJECTORY_PNG] = plot_trajectories(study.steps, study.q_se, study.trajectory, title=title)
    files[RESULT_JSON] = dumps_json(result)
    return files


def format_report(study, result):
    """Return the text report: the table per n, the fit and its comparison with SE."""
    fit = study.fit
    columns = [("n", study.n), ("runs", study.runs), ("diverged", study.diverged),
               ("eps mean", study.mean, 5), ("eps sem", study.sem, 3), ("fit", study.fit.predict(study.n), 5)]
    low, high = result["fit"]["eps_inf_95"]
    reduced = fit.chi2 / fit.dof if fit.dof else math.nan
    largest = max(study.trajectory) if study.trajectory else None
    lines = [
        f"Finite-size scaling of GAMP ({result['variant']}, {result['dtype']}) at alpha = {study.alpha:g}, "
        f"rho = {study.rho:g}: {study.error} error, mean over seeds.",
        "",
        format_table(columns),
        "",
        f"Fit eps(n) = eps_inf + a / n (weights 1 / sem^2): eps_inf = {fit.eps_inf:.5f} ± {fit.eps_inf_error:.5f} "
        f"(standard error; 95% interval [{low:.5f}, {high:.5f}]), a = {fit.slope:.4g} ± {fit.slope_error:.2g}, "
        f"chi^2 = {fit.chi2:.3g} on {fit.dof} degrees of freedom"
        + (f" ({reduced:.3g} per degree)." if fit.dof else "."),
        f"State evolution: eps_Bayes = {study.eps_se:.5f}. eps_inf - eps_Bayes = "
        f"{fit.eps_inf - study.eps_se:+.5f}, {study.deviation:+.2f} standard errors.",
    ]
    if largest is not None:
        curves = study.trajectory[largest]
        t_count = min(len(curves["m_mean"]), len(study.q_se))
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.abs(curves["m_mean"][1:t_count] - study.q_se[1:t_count]) / curves["m_sem"][1:t_count]
        lines += ["", f"Per iteration at n = {largest}, seed means and standard errors against state evolution "
                      f"(every n in {TRAJECTORY_CSV}):", ""]
        lines.append(format_table([
            ("t", list(range(t_count))), ("q_t SE", study.q_se[:t_count], 5),
            ("m_t mean", curves["m_mean"][:t_count], 5), ("m_t sem", curves["m_sem"][:t_count], 2),
            ("q_t mean", curves["q_mean"][:t_count], 5), ("q_t sem", curves["q_sem"][:t_count], 2),
        ]))
        if scores.size and np.all(np.isfinite(scores)):
            lines.append(f"|m_t - q_t^SE| is at most {scores.max():.2f} standard errors over t = 1 .. {t_count - 1}.")
        lines.append("")
    lines.append(f"Output folder: {result['output_dir']} ({RUNS_FOLDER}/, {TABLE_CSV}, {TRAJECTORY_CSV}, "
                 f"{RESULT_JSON}, {FIT_PNG}, {TRAJECTORY_PNG})")
    return "\n".join(lines)
