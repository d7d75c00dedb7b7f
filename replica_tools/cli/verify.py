"""The ``replica-tools verify`` subcommand: identity checks of a model and the audit of the slides."""

import json
import sys

from replica_tools.cli.arguments import (TESTED_RANGE_REASON, UsageError, add_model_arguments, float_in_range,
                                         model_from_args)
from replica_tools.cli.latex import check_output_file
from replica_tools.reports import audit
from replica_tools.reports.files import write_atomic
from replica_tools.solvers.state_evolution import TESTED_ALPHA
from replica_tools.symbolic import checks

PROG = "replica-tools verify"


def add_parser(subparsers):
    """Add the ``verify`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "verify",
        help="check the identities linking GAMP, SE and the replica formula, and audit the slides",
        description="Derive the RS free entropy of a model with SymPy and check the identities that link GAMP, "
                    "state evolution and the replica result (one line per identity: holds, fails or does not "
                    "apply). Then check each equation of the lecture slides the project started from against "
                    "the derivation for the reference perceptron (one line per equation: holds, or differs with "
                    "the derived form and a point where the two disagree). The slide transcription is read from "
                    "derivations/slides_audit.py of a source checkout. Exit status 0 when every identity holds or "
                    "does not apply (slide equations that differ do not change it), 1 when an identity fails.",
    )
    add_model_arguments(parser)
    parser.add_argument("--alpha", type=float_in_range(TESTED_ALPHA[0], TESTED_ALPHA[1], include_maximum=True,
                                                       reason=TESTED_RANGE_REASON),
                        default=1.0, help="sample density at which Phi_RS must be stationary (default 1)")
    parser.add_argument("--no-checks", action="store_true", help="skip the identity checks")
    parser.add_argument("--no-slides", action="store_true", help="skip the audit of the slides")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--markdown", metavar="FILE",
                        help="also write the slide audit as Markdown to FILE (docs/slides-audit.md in the repository)")
    parser.set_defaults(handler=run)


def run(args):
    """Run the checks and the audit, print them, and return the exit status."""
    if args.no_slides and args.markdown is not None:
        raise UsageError("--markdown writes the slide audit, which --no-slides skips", PROG)
    if args.markdown is not None:
        check_output_file(args.markdown, "--markdown", PROG)
    model = model_from_args(args, PROG)

    claims = None
    if not args.no_slides:
        try:
            claims = audit.load_claims()
        except audit.TranscriptionNotFoundError as error:
            raise UsageError(f"{error} (or pass --no-slides)", PROG) from None

    results = [] if args.no_checks else identity_checks(model, args.alpha)
    slides = [] if claims is None else audit.run_audit(claims)
    if args.markdown is not None:
        write_atomic(args.markdown, audit.to_markdown(slides))

    if args.json:
        json.dump({"checks": [check_record(result) for result in results], "slides": audit.records(slides)},
                  sys.stdout, indent=2)
        print()
    else:
        print_text(model, results, slides)
    return 1 if any(result.status == checks.FAILS for result in results) else 0


def identity_checks(model, alpha):
    """Run every identity check, with the stationarity point from the NumPy state evolution."""
    return checks.run_checks(model, fixed_point=fixed_point(model, alpha))


def fixed_point(model, alpha):
    """(alpha, q, qhat) of the state evolution, or None where the solver does not apply."""
    from replica_tools.numerics.compiled import NumpyModel
    from replica_tools.solvers.state_evolution import solve_fixed_point

    rho = checks.numeric_rho(model)
    try:
        solution = solve_fixed_point(NumpyModel(model, float(rho)), [alpha])
    except NotImplementedError:
        return None
    return alpha, float(solution.q[0]), float(solution.qhat[0])


def check_record(result):
    counterexample = None
    if result.counterexample:
        counterexample = {str(symbol): str(value) for symbol, value in result.counterexample.items()}
    return {"name": result.name, "status": result.status, "detail": result.detail, "residual": result.residual,
            "counterexample": counterexample, "method": result.method}


def print_text(model, results, slides):
    if results:
        print(f"Identities for prior {model.prior.name}, channel {model.channel.name}:")
        for result in results:
            line = f"  {result.status:15} {result.name}"
            if result.status == checks.NOT_APPLICABLE:
                line += f": {result.detail}"
            elif result.residual is not None:
                line += f" (residual {result.residual:.1e}, {result.method})"
            if result.status == checks.FAILS:
                line += f": {result.detail}"
            print(line)
    if slides:
        if results:
            print()
        print("Slide equations against the derivation (reference perceptron, rho = 1):")
        for claim, verdict in slides:
            print("  " + audit.verdict_line(claim, verdict))
        holding, differing = audit.verdict_counts(slides)
        print(f"\n{len(slides)} slide equations: {holding} hold, {differing} differ.")
