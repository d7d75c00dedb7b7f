"""The ``replica-tools audit`` and ``replica-tools formulas`` subcommands."""

import json
import sys

from replica_tools.reports.audit import run_audit
from replica_tools.reports.latex import model_formulas
from replica_tools.symbolic import perceptron


def add_parser(subparsers):
    """Add the ``audit`` and ``formulas`` subcommands to ``subparsers``."""
    audit = subparsers.add_parser(
        "audit",
        help="check formulas transcribed from lecture slides against the derivation",
        description="Check formulas transcribed from a set of lecture slides (in Chinese) on the "
                    "generalization error of the perceptron, which the project started from, against "
                    "what SymPy derives from the model declaration. The slides are not part of this "
                    "repository. Prints one verdict per formula. Exit status 0 whether or not claims fail.",
    )
    audit.add_argument("--json", action="store_true", help="print the verdicts as JSON on stdout")
    audit.set_defaults(handler=run_audit_command)

    formulas = subparsers.add_parser(
        "formulas",
        help="print the derived formulas of the perceptron as LaTeX",
        description="Derive Z_out, f_out, d_omega f_out, Z_w, f_w and the variances of the perceptron "
                    "(sign channel, Gaussian prior N(0, rho)) and print them as LaTeX: each formula on "
                    "one line, preceded by a line '% NAME' that names it.",
    )
    formulas.set_defaults(handler=run_formulas_command)


def run_audit_command(args):
    """Print one verdict per claim; return 0."""
    verdicts = run_audit()
    if args.json:
        records = [
            {"name": claim.name, "section": claim.section, "statement": claim.statement,
             "holds": verdict.holds, "detail": verdict.detail}
            for claim, verdict in verdicts
        ]
        json.dump(records, sys.stdout, indent=2)
        print()
        return 0

    for claim, verdict in verdicts:
        status = "holds" if verdict.holds else "FAILS"
        print(f"[{status}] {claim.name} ({claim.section})")
        print(f"    statement: {claim.statement}")
        print(f"    detail: {verdict.detail}")
    failed = sum(1 for _, verdict in verdicts if not verdict.holds)
    print(f"\n{len(verdicts) - failed} of {len(verdicts)} claims hold, {failed} fail.")
    return 0


def run_formulas_command(args):
    """Print the derived formulas as LaTeX; return 0."""
    for name, latex in model_formulas(perceptron()):
        print(f"% {name}")
        print(latex)
    return 0
