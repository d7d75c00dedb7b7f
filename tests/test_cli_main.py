"""The top-level command line: errors are reported under the subcommand they belong to."""

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
