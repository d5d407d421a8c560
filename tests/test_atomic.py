"""Atomic writes: all or nothing, and the file modes a plain ``open()`` would give."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from desktop_captioner.core.atomic import atomic_write, atomic_write_text


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_new_files_follow_the_umask(tmp_path, umask, expected):
    """Run in a fresh interpreter: the umask is read once, when the module is imported."""
    target = tmp_path / "out.csv"
    script = textwrap.dedent(f"""
        import os, sys
        os.umask({umask})
        from desktop_captioner.core.atomic import atomic_write_text
        atomic_write_text(sys.argv[1], "a,b\\n")
    """)
    subprocess.run([sys.executable, "-c", script, str(target)], check=True)
    assert _mode(target) == expected
    assert target.read_text() == "a,b\n"


def test_a_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "captions.csv"
    target.write_text("old\n")
    os.chmod(target, 0o604)
    atomic_write_text(target, "new\n")
    assert (_mode(target), target.read_text()) == (0o604, "new\n")


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "captions.csv"
    target.write_text("good\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target, "w") as handle:
            handle.write("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["captions.csv"]
