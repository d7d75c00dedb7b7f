"""The ``replica-tools latex`` subcommand: every derived object of a model as a LaTeX document."""

import os
import sys
from pathlib import Path

from replica_tools.cli.arguments import UsageError, add_model_arguments, int_in_range, model_from_args
from replica_tools.reports.files import write_atomic
from replica_tools.reports.latex import build_document, to_latex_document, to_markdown_document

PROG = "replica-tools latex"
MAX_DIGITS = 1000


def add_parser(subparsers):
    """Add the ``latex`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "latex",
        help="write the derived objects of a model as a LaTeX (or Markdown) document",
        description="Derive every object of a model with SymPy (P_out, P_0, Z_out, f_out, d_omega f_out, Z_w, "
                    "f_w and its variance, Phi_RS, the saddle-point equations, the Bayes-optimal reduction, the "
                    "error formula and, for the sign channel with a Gaussian prior, the large-alpha constants) "
                    "and write them as a standalone LaTeX document with numbered, named equations. It needs "
                    "only the amsmath, amssymb and graphicx packages.",
    )
    add_model_arguments(parser)
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the document to FILE (replaced if it exists) instead of stdout")
    parser.add_argument("--markdown", action="store_true",
                        help="write Markdown with one $$ block per equation instead of LaTeX")
    parser.add_argument("--digits", type=int_in_range(0, MAX_DIGITS), default=20,
                        help="significant digits of the large-alpha constants, 0 to leave them out (default 20)")
    parser.set_defaults(handler=run)


def check_output_file(path, flag, prog):
    """Raise ``UsageError`` unless ``path`` can be written as a file in an existing, writable folder.

    The check runs before the derivation, so a bad path fails in a second, not after it.
    """
    text = str(path)
    path = Path(path)
    folder = path.parent
    problem = None
    if not text or not str(path.name):
        problem = "it names no file"
    elif path.is_dir():
        problem = "it is a folder"
    elif not folder.is_dir():
        problem = f"the folder '{folder}' does not exist"
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem = f"the folder '{folder}' is not writable"
    if problem is not None:
        raise UsageError(f"argument {flag}: invalid value '{text}': {problem}", prog)


def run(args):
    """Build the document and write it; return 0."""
    if args.output is not None:
        check_output_file(args.output, "--output", PROG)
    model = model_from_args(args, PROG)

    document = build_document(model, asymptotic_digits=args.digits)
    text = to_markdown_document(document) if args.markdown else to_latex_document(document)
    if args.output is None:
        sys.stdout.write(text)
    else:
        write_atomic(args.output, text)
        print(f"wrote {args.output} ({len(document.formulas())} equations)", file=sys.stderr)
    return 0
