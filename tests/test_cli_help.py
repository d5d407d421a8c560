"""Help and version: they say where the log file is (error messages point there), and every
option is explained."""

from __future__ import annotations

import argparse

import pytest

from desktop_captioner import __version__
from desktop_captioner.cli import build_parser, main
from desktop_captioner.core.applog import log_file


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_name_the_log_file(app_home, capsys, flag):
    with pytest.raises(SystemExit) as exit_info:
        main([flag])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert str(log_file()) in out and str(log_file()).startswith(str(app_home))
    if flag == "--version":
        assert out.startswith(f"desktop-captioner {__version__} ")


def test_every_option_of_every_command_is_explained(tmp_path):
    """``COMMAND --help`` is the reference the README points to: no option without a sentence."""
    parser = build_parser(tmp_path / "app.log")
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    unexplained = [f"{name} {'/'.join(action.option_strings)}"
                   for name, command in commands.choices.items()
                   for action in command._actions
                   if action.option_strings and action.dest != "help" and not action.help]
    assert unexplained == []
    assert {"caption", "apply", "gui"} <= set(commands.choices)
