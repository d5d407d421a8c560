"""A Captioner stand-in for CLI tests where the model adds nothing: no TensorFlow, fixed words."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

from desktop_captioner.core import modelfile
from desktop_captioner.core.results import CaptionResult


class FakeCaptioner:
    """Captions every image with ``caption`` (default "a photo"); counts the paths it saw."""

    caption_text = "a photo"
    seen: list[Path] = []

    @classmethod
    def load(cls, *args, **kwargs) -> "FakeCaptioner":
        return cls()

    def caption(self, paths, batch_size=16, beam_width=3, progress=None):
        for path in paths:
            FakeCaptioner.seen.append(path)
            yield CaptionResult(path, FakeCaptioner.caption_text, -0.5, "ok")


def install_fake_captioner(monkeypatch, tmp_path: Path, caption: str = "a photo") -> Path:
    """Make ``caption --model X`` use ``FakeCaptioner``; returns a model argument to pass."""
    monkeypatch.setattr(modelfile, "read_manifest", lambda path: None)
    monkeypatch.setitem(sys.modules, "desktop_captioner.core.captioner",
                        types.SimpleNamespace(Captioner=FakeCaptioner))
    monkeypatch.setattr(FakeCaptioner, "caption_text", caption)
    monkeypatch.setattr(FakeCaptioner, "seen", [])
    return tmp_path / "fake.dcmodel"


def snapshot(folder: Path) -> dict[bytes, bytes | None]:
    """Every entry under ``folder`` (bytes names, links not followed): file bytes, or None for
    a folder or a link; to show a writer changed nothing but its target."""
    state: dict[bytes, bytes | None] = {}
    for top, dirs, files in os.walk(bytes(folder)):
        for name in dirs:
            state[top + b"/" + name] = None
        for name in files:
            full = top + b"/" + name
            try:
                with open(full, "rb") as handle:
                    state[full] = handle.read()
            except OSError:
                state[full] = None  # a dangling or looping link
    return state
