"""The ``replica-tools audit`` and ``replica-tools formulas`` subcommands.

``audit`` is ``verify --no-checks`` under its earlier name: the slide audit alone, with the
earlier output format (a verdict, the statement and the evidence per equation).
"""

import json
import sys

from replica_tools.cli.arguments import UsageError, add_model_arguments, model_from_args
from replica_tools.reports import audit
from replica_tools.reports.latex import model_formulas


def add_parser(subparsers):
    """Add the ``audit`` and ``formulas`` subcommands to ``subparsers``."""
    parser = subparsers.add_parser(
        "audit",
        help="check the equations transcribed from the lecture slides (the slide part of verify)",
        description="Check the equations transcribed from a set of lecture slides (in Chinese) on the "
                    "generalization error of the perceptron, which the project started from, against what "
                    "SymPy derives from the model declaration. The transcription is read from "
                    "derivations/slides_audit.py of a source checkout. Prints one verdict per equation with "
                    "the statement and the evidence. Exit status 0 whether or not equations differ.",
    )
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON on stdout")
    parser.set_defaults(handler=run_audit_command)

    formulas = subparsers.add_parser(
        "formulas",
        help="print the derived formulas of a model as LaTeX",
        description="Derive Z_out, f_out, d_omega f_out, Z_w, f_w and the variances of a model (by default "
                    "the perceptron: sign channel, Gaussian prior N(0, rho) with a symbolic rho) and print "
                    "them as LaTeX: each formula on one line, preceded by a line '% NAME' that names it.",
    )
    add_model_arguments(formulas)
    formulas.set_defaults(handler=run_formulas_command)


def run_audit_command(args):
    """Print one verdict per slide equation; return 0."""
    try:
        claims = audit.load_claims()
    except audit.TranscriptionNotFoundError as error:
        raise UsageError(str(error), "replica-tools audit") from None
    results = audit.run_audit(claims)
    if args.json:
        json.dump(audit.records(results), sys.stdout, indent=2)
        print()
        return 0

    for claim, verdict in results:
        status = "holds" if verdict.holds else "DIFFERS"
        print(f"[{status}] {claim.label} {claim.name} ({claim.slide})")
        print(f"    statement: {claim.statement}")
        print(f"    detail: {verdict.detail}")
        if verdict.corrected:
            print(f"    derived: {verdict.corrected}")
    holding, differing = audit.verdict_counts(results)
    print(f"\n{len(results)} equations: {holding} hold, {differing} differ.")
    return 0


def run_formulas_command(args):
    """Print the derived formulas as LaTeX; return 0."""
    model = _formulas_model(args)
    for name, latex in model_formulas(model):
        print(f"% {name}")
        print(latex)
    return 0


def _formulas_model(args):
    # Without model flags the formulas keep rho symbolic, as the command always printed them.
    from replica_tools.symbolic import perceptron
    from replica_tools.symbolic.catalog import CHANNELS, PRIORS

    parameter_names = {parameter.name for table in (PRIORS, CHANNELS) for entry in table.values()
                       for parameter in entry.parameters}
    given = [name for name in parameter_names if getattr(args, name, None) is not None]
    if args.prior == "gaussian" and args.channel == "sign" and not given:
        return perceptron()
    return model_from_args(args, "replica-tools formulas")
