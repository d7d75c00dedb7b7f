"""Entry point of the ``replica-tools`` command.

Subcommands register themselves: every module of the ``replica_tools.cli`` package that defines
``add_parser(subparsers)`` is imported and called, in the order of the module names. That
function adds one or more parsers with ``subparsers.add_parser(...)`` and calls
``parser.set_defaults(handler=run)`` on each, where ``run(args) -> int`` returns the exit status.

Exit status: 0 on success, 2 on invalid input (one line on stderr that names the flag and the
valid range), 1 on any other error (one line on stderr, or the traceback with ``--debug`` or
REPLICA_TOOLS_DEBUG=1), 130 on Ctrl-C (SIGINT) and 143 on SIGTERM. Both signals raise an
exception in the running command, so an output folder being written is cleaned up as after an
error.
"""

import importlib
import logging
import os
import pkgutil
import signal
import sys
import threading
import warnings

import replica_tools.cli
from replica_tools import __version__

try:
    # Loading NumPy, SciPy and SymPy takes most of a second. A Ctrl-C in that time ends the
    # command as any other interrupt does, with one line and no traceback.
    from replica_tools.cli.arguments import ArgumentParser, UsageError
except KeyboardInterrupt:
    print("replica-tools: interrupted", file=sys.stderr)
    sys.exit(128 + signal.SIGINT)

# Modules of the package that are not subcommands.
NON_COMMAND_MODULES = frozenset({"main", "arguments"})

DEBUG_ENVIRONMENT_VARIABLE = "REPLICA_TOOLS_DEBUG"
PROGRAM = "replica-tools"
# The shell's convention: 128 plus the signal number.
SIGINT_EXIT_STATUS = 128 + signal.SIGINT
SIGTERM_EXIT_STATUS = 128 + signal.SIGTERM


class TerminationRequest(BaseException):
    """Raised by the SIGTERM handler of ``main``.

    Like ``KeyboardInterrupt`` it derives from ``BaseException``, so ``except Exception`` in
    the library does not swallow it, while cleanup code that catches ``BaseException`` runs.
    """


def build_parser():
    """Build the top-level parser with every installed subcommand."""
    parser = ArgumentParser(
        prog=PROGRAM,
        description="Learning curves of generalized linear models from the replica method, "
                    "state evolution and GAMP.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in subcommand_modules():
        module.add_parser(subparsers)
    return parser


def parse_arguments(parser, argv):
    """Parse ``argv``, and report unknown arguments under the subcommand they were given to.

    argparse reports them from the top-level parser, as "replica-tools: error", even when they
    follow a subcommand name.
    """
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = getattr(args, "command", None)
        prog = f"{PROGRAM} {command}" if command else PROGRAM
        raise UsageError(f"unrecognized arguments: {' '.join(unknown)}", prog=prog)
    return args


def subcommand_modules():
    """Import and return the modules of ``replica_tools.cli`` that define ``add_parser``."""
    modules = []
    names = sorted(info.name for info in pkgutil.iter_modules(replica_tools.cli.__path__))
    for name in names:
        if name in NON_COMMAND_MODULES or name.startswith("_"):
            continue
        module = importlib.import_module(f"replica_tools.cli.{name}")
        if callable(getattr(module, "add_parser", None)):
            modules.append(module)
    return modules


def main(argv=None):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    previous_handlers = _install_signal_handlers()
    debug = _debug_requested(argv)
    handler = _attach_log_handler(debug)
    try:
        return _run(argv, debug)
    finally:
        for number, previous in previous_handlers.items():
            # signal.signal returns None for a handler that was not set from Python.
            signal.signal(number, previous or signal.SIG_DFL)
        logging.getLogger("replica_tools").removeHandler(handler)


def _install_signal_handlers():
    """Install handlers that make SIGTERM raise ``TerminationRequest`` and SIGINT ``KeyboardInterrupt``.

    Returns the previous handlers by signal number. After the first SIGINT or SIGTERM both
    signals are ignored, so that a second Ctrl-C cannot interrupt the cleanup that the first one
    started. Outside the main thread, where Python cannot set signal handlers, nothing is
    installed and the result is empty.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}

    def ignore_further_signals():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def request_termination(signal_number, frame):
        ignore_further_signals()
        raise TerminationRequest()

    def request_interrupt(signal_number, frame):
        ignore_further_signals()
        raise KeyboardInterrupt()

    return {
        signal.SIGTERM: signal.signal(signal.SIGTERM, request_termination),
        signal.SIGINT: signal.signal(signal.SIGINT, request_interrupt),
    }


def _run(argv, debug):
    try:
        parser = build_parser()
        args = parse_arguments(parser, argv)
        debug = debug or getattr(args, "debug", False)
        if debug:
            return args.handler(args)
        return _run_counting_warnings(args)
    except UsageError as error:
        print(f"{error.prog}: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_request:
        # argparse exits this way after --help and --version.
        return _exit_status(exit_request.code)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return SIGINT_EXIT_STATUS
    except TerminationRequest:
        print(f"{PROGRAM}: terminated", file=sys.stderr)
        return SIGTERM_EXIT_STATUS
    except Exception as error:
        if debug:
            raise
        print(f"{PROGRAM}: error: {_one_line(error)} (rerun with --debug for the traceback)", file=sys.stderr)
        return 1


def _run_counting_warnings(args):
    """Run the handler with Python warnings (NumPy overflow and the like) counted, not printed.

    Overflow inside a stable formula is routine here, for example erfcx(x)**2 reaching inf in a
    term whose limit is 0, so one summary line replaces a screen of repeated warnings.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        status = args.handler(args)
    if caught:
        kinds = sorted({str(item.message) for item in caught})
        listed_kinds = ", ".join(kinds[:3]) + (", ..." if len(kinds) > 3 else "")
        noun = "warning" if len(kinds) == 1 else "warnings"
        print(f"{PROGRAM}: note: {len(kinds)} distinct {noun} hidden ({listed_kinds}): "
              "rerun with --debug to see them", file=sys.stderr)
    return status


def _debug_requested(argv):
    arguments = sys.argv[1:] if argv is None else argv
    if os.environ.get(DEBUG_ENVIRONMENT_VARIABLE, "") not in ("", "0"):
        return True
    return "--debug" in arguments


def _attach_log_handler(debug):
    """Send the library's log records to stderr for the length of one command."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LowercaseLevelFormatter(f"{PROGRAM}: %(levelname)s: %(message)s"))
    library_logger = logging.getLogger("replica_tools")
    library_logger.addHandler(handler)
    library_logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    return handler


class _LowercaseLevelFormatter(logging.Formatter):
    """Format ``warning:`` instead of ``WARNING:``, like the error lines of the command."""

    def format(self, record):
        record = logging.makeLogRecord(record.__dict__)
        record.levelname = record.levelname.lower()
        return super().format(record)


def _one_line(error):
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
