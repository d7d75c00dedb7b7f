"""Audit of equations transcribed from lecture slides against what the toolkit derives.

The transcription itself lives in ``derivations/slides_audit.py`` (one ``Claim`` per equation,
with the slide it comes from) next to ``derivations/slides_transcription.md`` (the extracted
text). This module contains what the audit needs around it: the verdict type, the comparison of a
transcribed expression with a derived one, the run, and the text, JSON and Markdown reports.
"""

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import mpmath
import sympy as sp

from replica_tools.symbolic.checks import numeric_value

DIGITS = 30
TRANSCRIPTION_MODULE = "slides_audit"
TRANSCRIPTION_FILE = Path("derivations") / "slides_audit.py"


class TranscriptionNotFoundError(FileNotFoundError):
    """The slide transcription is not where the audit looks for it."""


@dataclass(frozen=True)
class Verdict:
    """Outcome of one comparison.

    ``detail`` is the evidence in one sentence. For an equation that differs, ``corrected`` is
    the form the toolkit derives and ``point`` a point where the two disagree, with both values.
    """

    holds: bool
    detail: str
    corrected: str = None
    point: str = None


@dataclass(frozen=True)
class Claim:
    """One equation as the slides state it, and the check against the derivation.

    ``label`` is the equation's number in the transcription (S4.10 is the tenth equation of
    slide 4), ``slide`` the slide's heading and ``statement`` the reading of the extracted text.
    """

    label: str
    name: str
    slide: str
    statement: str
    check: Callable[[], Verdict]


def _format(value):
    return mpmath.nstr(value, 10)


def compare(claimed, derived, points, what, corrected=None):
    """Compare a transcribed expression with a derived one.

    Exactly when SymPy reduces the difference to 0, otherwise at ``points`` with mpmath at
    ``DIGITS`` digits (integrals by quadrature). ``corrected`` is reported when they differ.
    """
    difference = claimed - derived
    if not difference.has(sp.Integral) and sp.simplify(difference.rewrite(sp.erfc)) == 0:
        return Verdict(True, f"{what}: equal to the derived expression (symbolic simplification)")
    with mpmath.workdps(DIGITS + 10):
        for point in points:
            claimed_value = numeric_value(claimed, point, DIGITS)
            derived_value = numeric_value(derived, point, DIGITS)
            tolerance = mpmath.mpf(10) ** (5 - DIGITS) * max(1, abs(derived_value))
            if abs(claimed_value - derived_value) > tolerance:
                at = ", ".join(f"{symbol} = {value}" for symbol, value in point.items())
                return Verdict(
                    False,
                    f"{what}: at {at} the slide gives {_format(claimed_value)}, the derivation "
                    f"{_format(derived_value)}",
                    corrected,
                    f"{at}: {_format(claimed_value)} (slide) against {_format(derived_value)} (derived)",
                )
    count = "1 point" if len(points) == 1 else f"{len(points)} points"
    return Verdict(True, f"{what}: equal to the derived expression at {count}, {DIGITS} digits")


def all_hold(verdicts, separator="; "):
    """Combine verdicts: holds if each holds; the details joined, the first failure's correction kept."""
    failed = [verdict for verdict in verdicts if not verdict.holds]
    detail = separator.join(verdict.detail for verdict in verdicts)
    if not failed:
        return Verdict(True, detail)
    return Verdict(False, detail, failed[0].corrected, failed[0].point)


def run_audit(claims):
    """Check every claim and return (claim, verdict) pairs in order.

    The checks run at ``DIGITS`` digits; the caller's mpmath precision is restored after.
    """
    with mpmath.workdps(DIGITS):
        return [(claim, claim.check()) for claim in claims]


def verdict_counts(results):
    """Return (equations that hold, equations that differ)."""
    holding = sum(1 for _, verdict in results if verdict.holds)
    return holding, len(results) - holding


def verdict_line(claim, verdict):
    """Format one line per equation: label, name, verdict, and for a difference the derived form."""
    if verdict.holds:
        return f"{claim.label:7} {claim.name}: holds"
    line = f"{claim.label:7} {claim.name}: differs"
    if verdict.corrected:
        line += f"; derived: {verdict.corrected}"
    if verdict.point:
        line += f"; at {verdict.point}"
    return line


def records(results):
    """Return the results as JSON-ready dictionaries."""
    return [
        {"label": claim.label, "name": claim.name, "slide": claim.slide, "statement": claim.statement,
         "holds": verdict.holds, "detail": verdict.detail, "corrected": verdict.corrected, "point": verdict.point}
        for claim, verdict in results
    ]


def to_markdown(results):
    """Format the audit as a Markdown page: a summary, then one section per equation."""
    holding, differing = verdict_counts(results)
    lines = [
        "# Audit of the lecture slides' equations",
        "",
        "Generated by `python derivations/slides_audit.py` (also `replica-tools verify`); do not edit by",
        "hand. Each equation of the slides, transcribed in `derivations/slides_transcription.md`, is",
        "compared with what the toolkit derives from the model declaration (sign channel, Gaussian prior,",
        "rho = 1 unless stated), symbolically where SymPy decides and otherwise with mpmath at "
        f"{DIGITS} digits.",
        "",
        f"**{len(results)} equations: {holding} hold, {differing} differ.**",
        "",
        "| label | equation | slide | verdict |",
        "| --- | --- | --- | --- |",
    ]
    for claim, verdict in results:
        lines.append(f"| {claim.label} | {claim.name} | {claim.slide} | {'holds' if verdict.holds else '**differs**'} |")
    for claim, verdict in results:
        lines += ["", f"## {claim.label} {claim.name}", "", f"Slide: {claim.slide}.", "",
                  f"As transcribed: `{claim.statement}`", "",
                  f"Verdict: {'holds' if verdict.holds else '**differs**'}. {verdict.detail}."]
        if verdict.corrected:
            lines += ["", f"Derived form: `{verdict.corrected}`"]
        if verdict.point:
            lines += ["", f"Where they disagree: {verdict.point}."]
    return "\n".join(lines) + "\n"


def find_transcription(start=None):
    """Return the path of ``derivations/slides_audit.py`` in a source checkout.

    It is looked for beside the installed package (an editable install or a checkout on
    ``sys.path``), then under ``start`` (default: the current folder).
    """
    candidates = [Path(__file__).resolve().parents[2] / TRANSCRIPTION_FILE,
                  Path(start or Path.cwd()) / TRANSCRIPTION_FILE]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise TranscriptionNotFoundError(
        f"the slide transcription {TRANSCRIPTION_FILE} was not found beside the package or in the "
        "current folder: run the command from the root of a replica_tools source checkout")


def load_claims(path=None):
    """Import the transcription module and return its ``CLAIMS``."""
    path = Path(path) if path else find_transcription()
    module = sys.modules.get(TRANSCRIPTION_MODULE)
    if module is None or Path(module.__file__).resolve() != path.resolve():
        spec = importlib.util.spec_from_file_location(TRANSCRIPTION_MODULE, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[TRANSCRIPTION_MODULE] = module
        spec.loader.exec_module(module)
    return module.CLAIMS
