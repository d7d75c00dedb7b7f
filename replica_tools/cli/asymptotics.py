"""``replica-tools asymptotics``: the large-alpha constants of the perceptron to many digits.

Prints k, C_Bayes = 1 / (k pi), C_Gibbs and the correction coefficients of
alpha eps = C (1 + c_2 / alpha^2 + c_4 / alpha^4 + ...), each with only the digits that two
independent runs agree on, and a table that compares the expansion with the full fixed point
at alpha = 10^2 ... 10^8. ``--certified`` adds Arb balls that contain the constants.
"""

import io
import math
import os
import sys
import tempfile

import mpmath
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from replica_tools.cli.arguments import UsageError, int_in_range
from replica_tools.reports.files import dumps_json, write_atomic
from replica_tools.solvers.asymptotics import (
    TABLE_DPS,
    certified_constants,
    check_expansion,
    estimated_seconds,
    large_alpha_constants,
    reference_model,
)
from replica_tools.solvers.fixed_point_mp import solve_fixed_point_mp

PROG = "replica-tools asymptotics"
DEFAULT_DIGITS = 30
MIN_DIGITS = 5
MAX_DIGITS = 10000
# A run estimated to take longer than this needs --force.
MAX_UNFORCED_SECONDS = 180
# The table needs constants to about TABLE_DPS digits; fewer requested digits are computed
# at this count for the table only.
TABLE_CONSTANT_DIGITS = TABLE_DPS + 10
# Extra alphas below the table's, solved at low precision, so the plot shows the approach to C.
PLOT_EXTRA_ALPHAS = (1, 2, 5, 10, 20, 50)
PLOT_DPS = 20
PLOT_PREDICTION_FROM = 5


# Time of every run besides the constants: the SymPy derivation (about 3 s) and the check table
# (about 16 s), measured on the 2-core reference machine.
FIXED_SECONDS = 20


def add_parser(subparsers):
    """Add the ``asymptotics`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "asymptotics",
        help="large-alpha constants k, C = 0.4417... and the corrections, to many digits",
        description="Compute the constants of the large-alpha learning curve of the Bayes-optimal "
                    "perceptron, eps ~ C / alpha, and the corrections in 1 / alpha, to the requested "
                    "number of digits, and check them against the full fixed point at alpha = 1e2 ... 1e8.",
    )
    parser.add_argument("--digits", type=int_in_range(MIN_DIGITS, MAX_DIGITS), default=DEFAULT_DIGITS,
                        help=f"significant digits of the constants, an integer in [{MIN_DIGITS}, {MAX_DIGITS}] "
                             f"(default {DEFAULT_DIGITS}). Only digits that two runs agree on are printed")
    parser.add_argument("--certified", action="store_true",
                        help="also enclose k, C_Bayes and C_Gibbs in Arb balls of radius below 10^-digits")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.add_argument("--plot", metavar="FILE",
                        help="write a PNG of alpha eps_Bayes against alpha with C and the corrected prediction")
    parser.add_argument("--force", action="store_true",
                        help=f"run even if the run is estimated to take more than {MAX_UNFORCED_SECONDS} s")
    parser.set_defaults(handler=run)
    return parser


def run(args):
    """Run ``replica-tools asymptotics`` with parsed ``args`` and return the exit status."""
    seconds = estimated_seconds(args.digits, args.certified) + FIXED_SECONDS
    if seconds > MAX_UNFORCED_SECONDS and not args.force:
        flags = f"--digits {args.digits}" + (" --certified" if args.certified else "")
        raise UsageError(f"{flags} is estimated to take about {_duration(seconds)}: add --force to run it",
                         prog=PROG)
    if args.plot is not None:
        _check_plot_path(args.plot)

    constants = large_alpha_constants(args.digits)
    table_constants = constants if args.digits >= TABLE_CONSTANT_DIGITS else large_alpha_constants(TABLE_CONSTANT_DIGITS)
    check = check_expansion(table_constants)
    certified = certified_constants(args.digits) if args.certified else None

    result = build_result(constants, check, certified)
    if args.plot is not None:
        extra = [solve_fixed_point_mp(reference_model(), alpha, dps=PLOT_DPS) for alpha in PLOT_EXTRA_ALPHAS]
        _write_plot(args.plot, plot_alpha_eps(table_constants, check, extra))
        result["plot"] = args.plot

    if args.json:
        sys.stdout.write(dumps_json(result))
    else:
        print(format_report(result))
    return 0


def _duration(seconds):
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def _check_plot_path(path):
    """Raise ``UsageError`` unless a file can be written at ``path`` (checked before computing).

    A probe file is created and removed in the target folder, because ``os.access`` grants
    everything to root and would pass /proc or a read-only mount.
    """
    folder = os.path.dirname(os.path.abspath(path)) if path else ""
    problem = None
    if not path:
        problem = "expected a file path"
    elif os.path.isdir(path):
        problem = "it is a folder"
    elif os.path.exists(folder) and not os.path.isdir(folder):
        problem = f"'{folder}' is not a folder"
    elif not os.path.isdir(folder):
        problem = f"the folder '{folder}' does not exist"
    elif len(os.fsencode(os.path.basename(path))) > os.pathconf(folder, "PC_NAME_MAX"):
        problem = f"the file name is longer than {os.pathconf(folder, 'PC_NAME_MAX')} bytes"
    else:
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".replica-tools-probe-"):
                pass
        except OSError as error:
            problem = f"cannot create a file in '{folder}' ({error.strerror or error})"
    if problem is not None:
        raise UsageError(f"argument --plot: invalid value '{path}': {problem}", prog=PROG)


def _text(value, digits):
    """Format in fixed-point notation with ``digits`` significant digits, trailing zeros kept."""
    return mpmath.nstr(value, digits, min_fixed=-math.inf, max_fixed=math.inf, strip_zeros=False)


def build_result(constants, check, certified=None):
    """Return the result as a JSON-ready dict. High-precision numbers are decimal strings."""
    expansion = constants.expansion

    def corrections(terms):
        return [{"power": term.power, "coefficient": term.coefficient.text,
                 "digits": term.coefficient.digits, "formula": str(term.expression)} for term in terms]

    first = constants.bayes_corrections[0]
    result = {
        "model": "teacher-student perceptron (sign channel, Gaussian prior N(0, rho)), Bayes-optimal student",
        "digits": constants.digits,
        "k": constants.k.text,
        "C_bayes": constants.C_bayes.text,
        "C_gibbs": constants.C_gibbs.text,
        "correction": {"power": first.power, "coefficient": first.coefficient.text,
                       "formula": str(first.expression)},
        "corrections": {"bayes": corrections(constants.bayes_corrections),
                        "gibbs": corrections(constants.gibbs_corrections)},
        "moments": {str(symbol): {"value": moment.text, "formula": str(expansion.moment_integral(j))}
                    for j, (symbol, moment) in enumerate(zip(expansion.moment_symbols, constants.moments))},
        "agreed_digits": {"k": constants.k.digits, "C_bayes": constants.C_bayes.digits,
                          "C_gibbs": constants.C_gibbs.digits},
        "formulas": {"C_bayes": str(expansion.bayes.constant), "C_gibbs": str(expansion.gibbs.constant),
                     "k": str(expansion.k_integral)},
        "table": {
            "dps": check.dps,
            "rows": [{"alpha": f"{float(row.alpha):g}", "alpha_eps_bayes": _text(row.alpha_eps, 25),
                      "predicted": _text(row.predicted, 25), "residual": mpmath.nstr(row.residual, 6)}
                     for row in check.rows],
            "decay_exponent": check.decay_exponent,
        },
    }
    if certified is not None:
        shown = certified.digits + 5
        result["certified"] = {
            "k": certified.k.str(shown), "C_bayes": certified.C_bayes.str(shown),
            "C_gibbs": certified.C_gibbs.str(shown),
            "radius_below": f"1e-{certified.digits}",
            "interval": list(certified.interval), "tail_bound": certified.tail_bound.str(5),
        }
    return result


def format_report(result):
    """Return the text report."""
    lines = [f"Large-alpha asymptotics of the {result['model']}.",
             f"Constants to {result['digits']} significant digits (only digits two runs agree on are shown).",
             "",
             f"k       = {result['k']}",
             f"          k = {result['formulas']['k']}",
             f"C_Bayes = {result['formulas']['C_bayes']} = {result['C_bayes']}",
             f"C_Gibbs = {result['formulas']['C_gibbs']} = {result['C_gibbs']}"]
    for name, moment in result["moments"].items():
        if name != "k":
            lines.append(f"{name:<7} = {moment['value']}")
            lines.append(f"          {name} = {moment['formula']}")
    for error, constant in (("bayes", "C_Bayes"), ("gibbs", "C_Gibbs")):
        terms = result["corrections"][error]
        series = " + ".join(f"c_{term['power']} / alpha^{term['power']}" for term in terms)
        lines += ["", f"alpha eps_{error.capitalize()} = {constant} (1 + {series} + ...)"]
        for term in terms:
            lines.append(f"  c_{term['power']} = {term['formula']} = {term['coefficient']}")
    if "certified" in result:
        certified = result["certified"]
        lines += ["", f"Certified enclosures (Arb, radius below {certified['radius_below']}):",
                  f"k       in {certified['k']}", f"C_Bayes in {certified['C_bayes']}",
                  f"C_Gibbs in {certified['C_gibbs']}"]

    table = result["table"]
    lines += ["", f"Check against the full fixed point (mpmath, {table['dps']} digits), "
                  "prediction with every correction above:",
              f"{'alpha':>7}  {'alpha eps_Bayes':<27}  {'prediction':<27}  residual"]
    for row in table["rows"]:
        lines.append(f"{row['alpha']:>7}  {row['alpha_eps_bayes']:<27}  {row['predicted']:<27}  {row['residual']:>12}")
    lines.append(f"The residual decays like alpha^-{table['decay_exponent']:.4f} (least-squares fit of log |residual|).")
    if "plot" in result:
        lines.append(f"Plot: {result['plot']}")
    return "\n".join(lines)


def plot_alpha_eps(constants, check, extra_points=(), dpi=120):
    """Render alpha eps_Bayes against alpha (log x) with C and the corrected prediction; return PNG bytes.

    The right panel shows |alpha eps - C| and the residual after the corrections on log-log axes.
    """
    with mpmath.workdps(TABLE_DPS):
        points = sorted([(p.alpha, p.alpha * p.eps_bayes) for p in extra_points]
                        + [(row.alpha, row.alpha_eps) for row in check.rows])
        alpha = np.array([float(a) for a, _ in points])
        alpha_eps = np.array([float(value) for _, value in points])
        constant = float(constants.C_bayes.value)
        # Below alpha ~ 5 the truncated series is no approximation (c_4 / alpha^4 > 1 at alpha = 1).
        grid = np.geomspace(max(alpha.min(), PLOT_PREDICTION_FROM), alpha.max(), 300)
        predicted = np.array([float(constants.predicted_alpha_eps(a)) for a in grid])
        table_alpha = np.array([float(row.alpha) for row in check.rows])
        gap = np.array([float(abs(row.alpha_eps - constants.C_bayes.value)) for row in check.rows])
        residual = np.array([float(abs(row.residual)) for row in check.rows])
    powers = ", ".join(rf"$1/\alpha^{{{c.power}}}$" for c in constants.bayes_corrections)

    figure = Figure(figsize=(10, 4.2), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    left.plot(alpha, alpha_eps, "o", color="C0", markersize=4, label=r"full fixed point $\alpha\,\varepsilon_\mathrm{Bayes}$")
    left.axhline(constant, color="0.3", linestyle="--", linewidth=1.2, label=f"C = {constant:.6f}")
    left.plot(grid, predicted, color="C3", linewidth=1.2, label=f"C (1 + corrections in {powers})")
    left.set_xscale("log")
    left.set_ylim(0.9 * alpha_eps.min(), 1.05 * constant)
    left.set_xlabel(r"$\alpha = m/n$")
    left.set_ylabel(r"$\alpha\,\varepsilon_\mathrm{Bayes}$")
    left.legend(loc="lower right", fontsize="small")
    left.grid(True, alpha=0.3)

    right.loglog(table_alpha, gap, "o-", color="C0", markersize=4, label=r"$|\alpha\,\varepsilon - C|$")
    right.loglog(table_alpha, residual, "s-", color="C3", markersize=4,
                 label=rf"residual after corrections, $\sim\alpha^{{-{check.decay_exponent:.2f}}}$")
    right.set_xlabel(r"$\alpha = m/n$")
    right.legend(loc="lower left", fontsize="small")
    right.grid(True, which="major", alpha=0.3)
    figure.suptitle("Large-alpha learning curve of the Bayes-optimal perceptron")

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _write_plot(path, data):
    try:
        write_atomic(path, data)
    except OSError as error:
        raise UsageError(f"argument --plot: cannot write '{path}' ({error.strerror or error})", prog=PROG) from None
