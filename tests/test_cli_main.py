"""The top-level command line: errors are reported under the subcommand they belong to."""

import subprocess
import sys

import pytest

from replica_tools.cli.main import main


@pytest.mark.parametrize("argv, prefix", [
    (["curve", "--no-such-flag"], "replica-tools curve: error: unrecognized arguments: --no-such-flag"),
    (["audit", "--no-such-flag", "7"], "replica-tools audit: error: unrecognized arguments: --no-such-flag 7"),
])
def test_unknown_flag_names_subcommand(argv, prefix, capsys):
    status = main(argv)
    lines = capsys.readouterr().err.splitlines()
    assert status == 2
    assert lines == [prefix]


def test_missing_subcommand_exits_two(capsys):
    status = main([])
    error = capsys.readouterr().err
    assert status == 2
    assert "required: COMMAND" in error


# Raises KeyboardInterrupt when NumPy is first imported, as a Ctrl-C during the import would.
INTERRUPTED_IMPORT_SCRIPT = """
import sys

class InterruptNumpyImport:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            raise KeyboardInterrupt

sys.meta_path.insert(0, InterruptNumpyImport())
from replica_tools.cli.main import main
sys.exit(main(["curve", "--no-gamp"]))
"""


def test_ctrl_c_while_loading_exits_130():
    completed = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT_SCRIPT], capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 130
    assert completed.stderr.splitlines() == ["replica-tools: interrupted"]
