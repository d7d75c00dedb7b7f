"""``replica-tools thresholds`` at both ends of every catalog parameter's range.

Each end of a range must give thresholds on which the two routes of ``--check`` agree, or
``none`` with a reason, and exit status 0. A value
just outside the range must stop the command with one line that names the range.
"""

import contextlib
import io
import json
import math

import pytest

from replica_tools.cli.main import main
from replica_tools.symbolic.catalog import CHANNELS, PRIORS


def run_main(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(argv)
    return status, stdout.getvalue(), stderr.getvalue()


def range_ends():
    """Yield (argv, parameter) for both ends of every parameter.

    A channel parameter is paired with the Rademacher prior, whose two branches exercise the
    whole threshold search.
    """
    for kind, table in (("prior", PRIORS), ("channel", CHANNELS)):
        for name, entry in table.items():
            for parameter in entry.parameters:
                for end in (parameter.low, parameter.high):
                    model = [f"--{kind}", name] + ([] if kind == "prior" else ["--prior", "rademacher"])
                    yield pytest.param(model + [f"--{parameter.name}", repr(end)], parameter,
                                       id=f"{name}-{parameter.name}={end:g}")


@pytest.mark.slow
@pytest.mark.parametrize("argv, parameter", list(range_ends()))
def test_range_end_gives_thresholds_or_reasons(argv, parameter):
    status, stdout, stderr = run_main(["thresholds", "--check", "--json", *argv])
    assert status == 0, stderr
    result = json.loads(stdout)
    for name in ("alpha_alg", "alpha_it"):
        value = result[name]
        assert (value is None and result["reasons"][name]) or (math.isfinite(value) and value > 0)
    if result["alpha_it"] is not None:
        # alpha_IT lies strictly inside (0, alpha_alg), away from the ends of its search.
        assert 1e-3 < result["alpha_it"] < result["alpha_alg"]


@pytest.mark.parametrize("argv, parameter", list(range_ends()))
def test_value_beyond_range_rejected(argv, parameter):
    end = float(argv[-1])
    beyond = end * (1 - 1e-6) if end == parameter.low else end * (1 + 1e-6)
    if end == 0:
        beyond = -1e-12
    status, stdout, stderr = run_main(["thresholds", *argv[:-2], f"{argv[-2]}={beyond!r}"])
    assert status == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert parameter.range_text in stderr
