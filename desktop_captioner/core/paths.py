"""Where the app keeps its files.

platformdirs gives the per-user folders. ``DESKTOP_CAPTIONER_HOME`` roots all of them in one
folder instead: tests use it to stay hermetic, and it doubles as a "portable mode" for users who
run the app from a USB stick.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "desktop-captioner"
HOME_ENV = "DESKTOP_CAPTIONER_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value) if value else None


def _dir(kind: str) -> Path:
    home = _home()
    if home is not None:
        path = home / kind
    else:
        path = Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Downloaded weights and feature caches: safe to delete, expensive to rebuild."""
    return _dir("cache")


def data_dir() -> Path:
    """Trained models: the user's own work, never deleted by the app."""
    return _dir("data")


def config_dir() -> Path:
    """Settings."""
    return _dir("config")


def log_dir() -> Path:
    """Rotating log files with full tracebacks."""
    return _dir("log")


def models_dir() -> Path:
    """Default home of trained models."""
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
