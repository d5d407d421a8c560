"""``--version`` and ``--help`` say where the log file is (error messages point there)."""

from __future__ import annotations

import pytest

from desktop_captioner import __version__
from desktop_captioner.cli import main
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
