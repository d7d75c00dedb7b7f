"""``replica-tools curve --json`` names the equilibrium branch of the Rademacher perceptron."""

import contextlib
import io
import json

import pytest

from replica_tools.cli.main import main


@pytest.mark.slow
def test_equilibrium_branch_stays_informed_beyond_the_spinodal(tmp_path):
    """alpha_IT ~ 1.245 and alpha_alg ~ 1.49 (published values): beyond 1.49 the starts merge at q = rho."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["curve", "--prior", "rademacher", "--no-gamp", "--json", "--alpha", "1:3:5",
                       "--out", str(tmp_path / "curve")])
    assert status == 0, stderr.getvalue()
    result = json.loads(stdout.getvalue())
    assert result["equilibrium_branch"] == ["uninformative", "informed", "informed", "informed", "informed"]
    assert result["eps_bayes"][1:] == [0.0] * 4
