"""Keeping a damaged app-state file (settings, session) aside instead of overwriting it."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)


def set_aside(path: Path, what: str) -> Path:
    """Rename ``path`` (a file, or whatever stands at its place) to ``<name>.corrupt-<time>``,
    so the app can write a fresh one while the user can still look at the old; logs one line
    naming both and returns the new path. ``what`` names the file's role ("settings file")."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while target.exists() or target.is_symlink():
        number += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    os.replace(path, target)
    log.warning("damaged %s %s moved aside to %s", what, path, target)
    return target
