"""Argument parsing shared by the subcommands: a parser that reports errors in one line, and
validators for the value types the commands take.

Validators are argparse ``type=`` functions. They raise ``argparse.ArgumentTypeError`` with a
message that names the value and the valid range, and argparse prefixes it with the flag.
"""

import argparse
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from replica_tools.solvers.state_evolution import TESTED_ALPHA, TESTED_RHO

MAX_GRID_POINTS = 100_000


class UsageError(Exception):
    """Invalid command-line input. The CLI prints ``PROG: error: MESSAGE`` and exits with 2.

    ``prog`` is the command the message is about, such as ``replica-tools curve``.
    """

    def __init__(self, message, prog="replica-tools"):
        super().__init__(message)
        self.prog = prog


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` that raises ``UsageError`` instead of printing usage.

    ``main`` turns the error into one line on stderr, so a bad value never prints a usage block
    or a traceback. Subparsers made by ``add_subparsers`` are of this class too, and every
    parser takes ``--debug``, so the flag works before or after the subcommand name.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                          help="show tracebacks and debug logs (also set by REPLICA_TOOLS_DEBUG=1)")

    def error(self, message):
        if message.startswith("argument ") and "expected one argument" in message:
            message += " (write a value that starts with '-' as --flag=VALUE)"
        raise UsageError(message, prog=self.prog)


def format_bound(value):
    """Format a range end as written in messages: 1e-6 and 1e8 rather than 1e-06 and 1e+08."""
    text = f"{value:g}"
    mantissa, separator, exponent = text.partition("e")
    if not separator:
        return text
    return f"{mantissa}e{int(exponent)}"


def _parse_float(text, expected):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {expected}") from None


def float_in_range(minimum, maximum, *, include_maximum=False, reason=None):
    """Return a validator for a number in ``[minimum, maximum)``, or ``[minimum, maximum]``.

    ``reason``, if given, follows the range in the error message, such as "the range over which
    the solver is tested".
    """
    closing = "]" if include_maximum else ")"
    expected = f"a number in [{format_bound(minimum)}, {format_bound(maximum)}{closing}"
    if reason:
        expected += f", {reason}"

    def parse(text):
        value = _parse_float(text, expected)
        below_maximum = value <= maximum if include_maximum else value < maximum
        if not (math.isfinite(value) and minimum <= value and below_maximum):
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {expected}")
        return value

    return parse


def int_in_range(minimum, maximum=None):
    """Return a validator for an integer ``>= minimum`` (and ``<= maximum`` if given)."""
    expected = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"

    def parse(text):
        # int() would also take "5_000", " 5000" and non-ASCII digits; accept plain decimals only.
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {expected}")
        value = int(text)
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {expected}")
        return value

    return parse


@dataclass(frozen=True)
class AlphaSpec:
    """A parsed ``--alpha`` value: the sorted grid, and whether it was given as an explicit list."""

    values: np.ndarray
    explicit: bool
    text: str


TESTED_RANGE_REASON = "the range over which the state evolution is tested"
ALPHA_RANGE_TEXT = f"[{format_bound(TESTED_ALPHA[0])}, {format_bound(TESTED_ALPHA[1])}]"
RHO_RANGE_TEXT = f"[{format_bound(TESTED_RHO[0])}, {format_bound(TESTED_RHO[1])}]"

ALPHA_SPEC_HELP = (f"START:STOP:NUM gives NUM points from START to STOP, NUM an integer in [2, {MAX_GRID_POINTS}], "
                   "spaced geometrically (the default, also written START:STOP:NUM:log) or linearly "
                   "(START:STOP:NUM:lin). A comma-separated list gives the values themselves. Every alpha "
                   f"must lie in {ALPHA_RANGE_TEXT}, {TESTED_RANGE_REASON}.")


def alpha_spec(text):
    """Parse an alpha grid: ``START:STOP:NUM[:log|lin]`` or a comma-separated list of values."""
    text = text.strip()
    if ":" in text:
        return AlphaSpec(_parse_alpha_range(text), explicit=False, text=text)
    return AlphaSpec(alpha_list(text), explicit=True, text=text)


def alpha_list(text):
    """Parse a comma-separated list of alphas in ``TESTED_ALPHA``, sorted, duplicates removed."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: expected a comma-separated list of numbers in {ALPHA_RANGE_TEXT}, "
            "such as 0.5,1,2")
    values = []
    for item in items:
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid value {text!r}: {item!r} is not a number (expected numbers in {ALPHA_RANGE_TEXT}, "
                "such as 0.5,1,2)"
            ) from None
        _check_tested_alpha(text, "alpha", item, value)
        values.append(value)
    return np.unique(np.array(values, dtype=float))


def _check_tested_alpha(text, name, item, value):
    if not (math.isfinite(value) and TESTED_ALPHA[0] <= value <= TESTED_ALPHA[1]):
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: {name} = {item} is outside {ALPHA_RANGE_TEXT}, {TESTED_RANGE_REASON}")


def _parse_alpha_range(text):
    fields = [field.strip() for field in text.split(":")]
    form = f"invalid value {text!r}: expected START:STOP:NUM[:log|lin], such as 0.25:10:200"
    if len(fields) not in (3, 4):
        raise argparse.ArgumentTypeError(form)
    spacing = fields[3].lower() if len(fields) == 4 else "log"
    if spacing not in ("log", "lin"):
        raise argparse.ArgumentTypeError(f"{form} (the spacing {fields[3]!r} must be log or lin)")
    try:
        start, stop = float(fields[0]), float(fields[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{form} (START and STOP must be numbers)") from None
    count = _parse_grid_count(text, fields[2], form)
    _check_tested_alpha(text, "START", fields[0], start)
    _check_tested_alpha(text, "STOP", fields[1], stop)
    if not start < stop:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: START = {fields[0]} must be < STOP = {fields[1]}")
    if spacing == "log":
        return np.geomspace(start, stop, count)
    return np.linspace(start, stop, count)


def _parse_grid_count(text, field, form):
    """Parse the NUM field of an alpha range, an integer in [2, MAX_GRID_POINTS]."""
    valid_range = f"[2, {MAX_GRID_POINTS}]"
    try:
        number = float(field)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{form} (NUM = {field!r} must be an integer in {valid_range})") from None
    if not (math.isfinite(number) and number == int(number) and 2 <= number <= MAX_GRID_POINTS):
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: NUM = {field} is invalid: expected an integer in {valid_range}")
    return int(number)


def output_folder(text):
    """Parse an output folder path, rejecting an empty one (which would mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: expected a folder path (write --out . for the current folder)")
    return Path(text)


def check_output_folder(path, flag="--out", prog="replica-tools"):
    """Raise ``UsageError`` unless ``path`` is a writable folder or can be created as one.

    Nothing is created here. The check runs before any computation, so a bad folder fails
    fast. Write permission comes from ``os.access``, which grants everything to root, so a
    read-only mount can still fail later, when the files are written.
    """
    path = Path(path)
    problem = None
    if path.exists():
        if not path.is_dir():
            problem = "it exists and is not a folder"
        elif not os.access(path, os.W_OK | os.X_OK):
            problem = "the folder is not writable"
    else:
        ancestor = path.absolute().parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            problem = f"'{ancestor}' is a file, so the folder cannot be created"
        elif not os.access(ancestor, os.W_OK | os.X_OK):
            problem = f"'{ancestor}' is not writable, so the folder cannot be created"
    if problem is not None:
        raise UsageError(f"argument {flag}: invalid value '{path}': {problem}", prog=prog)


def add_model_arguments(parser, default_prior="gaussian", default_channel="sign"):
    """Add ``--prior``, ``--channel`` and one flag per catalog parameter to ``parser``.

    A parameter flag (``--rho``, ...) is shared by every prior and channel that takes a parameter
    of that name; ``model_from_args`` checks it against the range of the chosen one.
    """
    from replica_tools.symbolic.catalog import CHANNELS, PRIORS

    parser.add_argument("--prior", default=default_prior, metavar="NAME",
                        help=f"weight prior P_0, one of {', '.join(sorted(PRIORS))} (default {default_prior})")
    parser.add_argument("--channel", default=default_channel, metavar="NAME",
                        help=f"output channel P_out, one of {', '.join(sorted(CHANNELS))} "
                             f"(default {default_channel})")
    takers = {}
    for kind, table in (("prior", PRIORS), ("channel", CHANNELS)):
        for entry in table.values():
            for parameter in entry.parameters:
                takers.setdefault(parameter.name, []).append(
                    f"{kind} {entry.name}: {parameter.meaning} in {parameter.range_text}, default {parameter.default:g}")
    for name, uses in sorted(takers.items()):
        if any(action.dest == name for action in parser._actions):
            continue
        parser.add_argument(f"--{name}", type=lambda text, name=name: _parse_float(text, f"a number for {name}"),
                            default=None, help="; ".join(uses))


def model_from_args(args, prog="replica-tools"):
    """Return the ``Model`` named by ``args.prior`` and ``args.channel`` with its parameter flags.

    Raises ``UsageError`` for an unknown name, a flag that neither takes, or a value out of range.
    """
    from replica_tools.symbolic.catalog import UnknownNameError, build_model, channel_entry, prior_entry

    try:
        prior, channel = prior_entry(args.prior), channel_entry(args.channel)
        given = {name: getattr(args, name) for name in _catalog_parameter_names()
                 if getattr(args, name, None) is not None}
        unused = sorted(set(given) - set(prior.parameter_names()) - set(channel.parameter_names()))
        if unused:
            raise UsageError(f"--{unused[0]} does not apply to prior {prior.name} or channel {channel.name}", prog)
        return build_model(
            prior.name, channel.name,
            {name: value for name, value in given.items() if name in prior.parameter_names()},
            {name: value for name, value in given.items() if name in channel.parameter_names()},
        )
    except (UnknownNameError, ValueError) as error:
        raise UsageError(str(error), prog) from None


def _catalog_parameter_names():
    from replica_tools.symbolic.catalog import CHANNELS, PRIORS

    return {parameter.name for table in (PRIORS, CHANNELS) for entry in table.values() for parameter in entry.parameters}
