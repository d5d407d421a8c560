"""``--ray`` when Ray cannot be used: not installed, or no cluster at the address. Both end the
command with exit 2 and one line, before any dataset is read or model loaded."""

from __future__ import annotations

import socket
import sys

import pytest

from desktop_captioner.cli import main


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _train(tmp_path, *ray_arguments: str) -> int:
    return main(["train", str(tmp_path / "no-dataset"), "--out", str(tmp_path / "m.dcmodel"),
                 *ray_arguments])


def test_without_ray_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # "import ray" now fails as if not installed
    assert _train(tmp_path, "--ray", "auto") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "desktop-captioner[cluster]"' in err


def test_an_address_nobody_answers_at_fails_in_one_line(tmp_path, capsys):
    pytest.importorskip("ray", reason="Ray is the optional [cluster] extra")
    address = f"127.0.0.1:{_closed_port()}"
    assert _train(tmp_path, "--ray", address) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"No Ray cluster answers at {address}" in err


def test_an_address_that_is_no_address_fails_in_one_line(tmp_path, capsys):
    pytest.importorskip("ray", reason="Ray is the optional [cluster] extra")
    assert _train(tmp_path, "--ray", "head-node") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'head-node' is not a Ray address" in err
