"""``replica-tools thresholds``: the algorithmic and the information-theoretic threshold of a model.

Prints alpha_alg (where the uninformative fixed point disappears, so GAMP from a random start
reaches the informed one) and alpha_IT (where the two branches' free entropies cross). A threshold
that the model does not have is printed as none, with the reason. ``--check`` locates both a second time by
the independent routes of ``replica_tools.solvers.thresholds`` and prints the differences.
"""

import sys

from replica_tools.cli.arguments import add_model_arguments, model_from_args
from replica_tools.numerics.compiled import NumpyModel
from replica_tools.reports.files import dumps_json
from replica_tools.solvers.state_evolution import maps_for
from replica_tools.solvers.thresholds import CHECK_TOLERANCE, locate_thresholds

PROG = "replica-tools thresholds"


def add_parser(subparsers):
    """Add the ``thresholds`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "thresholds",
        help="locate the algorithmic and the information-theoretic threshold of a model",
        description="Locate, for the Bayes-optimal student of the chosen prior and channel, the "
                    "algorithmic threshold alpha_alg (the spinodal of the uninformative fixed point) "
                    "and the information-theoretic threshold alpha_IT (where the RS free entropies of "
                    "the two branches cross), to about 1e-10 in alpha. A threshold that the model does "
                    "not have is reported as such. Without --prior and --channel the model is the "
                    "Gaussian prior with the sign channel. With --check, if the two routes to a "
                    "threshold differ by more than a relative 1e-6, the command prints an error "
                    "instead of the thresholds and exits with status 1.",
    )
    add_model_arguments(parser)
    parser.add_argument("--check", action="store_true",
                        help="also locate each threshold by a second, independent route and print the "
                             "difference (adds a few seconds); exit status 1 if they differ by more than a relative 1e-6")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(handler=run)
    return parser


def run(args):
    """Run ``replica-tools thresholds`` with parsed ``args`` and return the exit status."""
    model = model_from_args(args, PROG)
    numpy_model = NumpyModel(model, float(model.rho))
    try:
        thresholds = locate_thresholds(numpy_model, check=args.check)
    except (ArithmeticError, ValueError, TypeError, IndexError, RuntimeError) as error:
        print(f"{PROG}: error: the threshold search failed for this model: {error}", file=sys.stderr)
        return 1
    result = build_result(args, numpy_model, thresholds)
    disagreement = routes_disagree(result)
    if disagreement:
        print(f"{PROG}: error: {disagreement}, so the threshold is unreliable and is not printed", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(dumps_json(result))
    else:
        print(format_report(result))
    return 0


def build_result(args, numpy_model, thresholds):
    """Collect the thresholds into the JSON-ready result dictionary."""
    maps = maps_for(numpy_model)
    result = {
        "command": "thresholds",
        "prior": args.prior,
        "channel": args.channel,
        "rho": numpy_model.rho,
        "numeric_objects": list(maps.numeric_objects),
        "branch_count": thresholds.branch_count,
        "perfect_branch": bool(thresholds.perfect_branch),
        "alpha_alg": thresholds.alpha_alg,
        "alpha_it": thresholds.alpha_it,
        "reasons": dict(thresholds.reasons),
        "folds": [{"kind": fold.kind, "alpha": fold.alpha, "qhat": fold.qhat} for fold in thresholds.folds],
    }
    if args.check:
        result["alpha_alg_check"] = thresholds.alpha_alg_check
        result["alpha_it_check"] = thresholds.alpha_it_check
        for name in ("alpha_alg", "alpha_it"):
            first, second = result[name], result[f"{name}_check"]
            result[f"{name}_difference"] = None if first is None or second is None else abs(first - second)
    return result


def routes_disagree(result):
    """Return a message if the two routes to a threshold differ by more than CHECK_TOLERANCE, else None.

    The tolerance is relative to the threshold. Without ``--check`` there is nothing to compare.
    """
    for name, label in (("alpha_alg", "alpha_alg"), ("alpha_it", "alpha_IT")):
        difference = result.get(f"{name}_difference")
        if difference is not None and not difference <= CHECK_TOLERANCE * abs(result[name]):
            return (f"the two routes to {label} disagree ({result[name]:.10g} and {result[f'{name}_check']:.10g}, "
                    f"more than the relative tolerance {CHECK_TOLERANCE:g})")
    return None


def format_report(result):
    """Return the text report of the thresholds."""
    lines = [f"Thresholds of the Bayes-optimal student, prior {result['prior']}, channel {result['channel']} "
             f"(rho = {result['rho']:g}).",
             f"Stable fixed points at one alpha: at most {result['branch_count']}"
             + (", one of them the perfect fixed point q = rho" if result["perfect_branch"] else "") + "."]
    for name, label in (("alpha_alg", "alpha_alg (GAMP from a random start reaches the informed branch)"),
                        ("alpha_it", "alpha_IT (the informed branch becomes the equilibrium)")):
        value = result[name]
        if value is None:
            lines.append(f"{label}: none, {result['reasons'].get(name, 'not located')}.")
            continue
        line = f"{label}: {value:.10f}"
        if f"{name}_check" in result:
            check = result[f"{name}_check"]
            line += (f" (second route: {check:.10f}, difference {result[f'{name}_difference']:.1e})"
                     if check is not None else " (no second route for this model)")
        lines.append(line)
    lines.append("Computed by quadrature: " + ", ".join(result["numeric_objects"]) + ".")
    return "\n".join(lines)
