"""Logging: full detail to a rotating file, never a traceback in the user's face."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from desktop_captioner.core import paths

LOG_FILE_NAME = "desktop-captioner.log"


def log_file() -> Path:
    return paths.log_dir() / LOG_FILE_NAME


def setup_logging(level: int = logging.INFO) -> Path:
    """Send all records to a rotating log file; returns its path so errors can point to it."""
    path = log_file()
    root = logging.getLogger()
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    return path

