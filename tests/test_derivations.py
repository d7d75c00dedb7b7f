"""The perceptron derivation script runs to the end, so every assertion in it holds.

The large-alpha derivation script is run by ``test_asymptotics.py``.
"""

import subprocess
import sys
from pathlib import Path

DERIVATIONS = Path(__file__).resolve().parent.parent / "derivations"


def run_script(name):
    return subprocess.run(
        [sys.executable, str(DERIVATIONS / name)], capture_output=True, text=True, timeout=600
    )


def test_perceptron_derivation_holds():
    completed = run_script("perceptron.py")
    assert completed.returncode == 0, completed.stderr
    assert "All steps hold." in completed.stdout

