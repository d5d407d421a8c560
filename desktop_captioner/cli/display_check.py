"""Say in one line that there is no screen, before Qt aborts with a misleading message.

Without a display, Qt's xcb plugin fails to load and Qt aborts the process (exit 134) after
suggesting that ``libxcb-cursor0`` is missing, which sends people looking for the wrong problem.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

from desktop_captioner.core.errors import CaptionerError

_SCREEN_PLATFORMS = ("", "xcb", "wayland")  # platforms that need a display server


class NoDisplayError(CaptionerError):
    """The GUI was asked for where there is no screen to show it on."""


def missing_display(environ: Mapping[str, str] = os.environ, platform: str = sys.platform
                    ) -> str | None:
    """A one-sentence reason the window cannot open here, or None when it can (as far as the
    environment tells: macOS and Windows always have a screen for a logged-in user)."""
    if platform in ("darwin", "win32") or platform.startswith("cygwin"):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0].split(";", 1)[0]
    if qpa not in _SCREEN_PLATFORMS:
        return None  # offscreen, minimal, vnc, eglfs...: Qt needs no display server
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
            "start it from a desktop session, or set QT_QPA_PLATFORM=offscreen for headless "
            "checks such as --self-test")


def require_display() -> None:
    """Raise ``NoDisplayError`` when ``missing_display()`` has a reason."""
    reason = missing_display()
    if reason:
        raise NoDisplayError(reason)
