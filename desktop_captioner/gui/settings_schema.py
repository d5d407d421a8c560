"""What each setting in settings.json may hold: one checker per setting, with bounds.

The file is the user's to edit (and to damage), so every value is checked on load before the
window builds anything from it. A checker returns the value to use or raises ``ValueError``
saying what is wrong; the caller then keeps that setting's default and logs the sentence, and
every other setting is kept.
"""

from __future__ import annotations

import base64
import binascii
from typing import Callable

from desktop_captioner.core.metadata_modes import METADATA_MODES
from desktop_captioner.core.precision import PRECISIONS
from desktop_captioner.core.sidecars import normalise_sidecar_ext

MAX_PATH_CHARS = 4096  # PATH_MAX on Linux; longer text cannot name a file anyway
MAX_GEOMETRY_CHARS = 4096  # saveGeometry() is under 100 bytes; room for future Qt versions
SPLITTER_PANES = 2  # the main window's list and preview
MAX_PANE_SIZE = 100_000  # pixels; wider than any screen
BEAM_WIDTH_RANGE = range(1, 11)
MAX_RECENT_MODELS = 8
MAX_SIDECAR_EXT_CHARS = 32

Checker = Callable[[object], object]


def decode_geometry(text: str) -> bytes:
    """The bytes of a saved window geometry (strict base64, bounded size); ``ValueError`` when
    ``text`` is not one."""
    if len(text) > MAX_GEOMETRY_CHARS:
        raise ValueError(f"it is longer than {MAX_GEOMETRY_CHARS:,} characters")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("it is not base64 text") from None


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"it is {_kind(value)}, not text")
    return value


def _path(value: object) -> str:
    text = _text(value)
    if len(text) > MAX_PATH_CHARS:
        raise ValueError(f"it is longer than {MAX_PATH_CHARS:,} characters")
    if "\0" in text:
        raise ValueError("it holds a NUL character, which no file name can")
    return text


def _geometry(value: object) -> str:
    text = _text(value)
    decode_geometry(text)
    return text


def _splitter_sizes(value: object) -> list[int]:
    if not isinstance(value, list):
        raise ValueError(f"it is {_kind(value)}, not a list")
    if value and len(value) != SPLITTER_PANES:
        raise ValueError(f"it has {len(value):,} sizes, not {SPLITTER_PANES}")
    if not all(_is_int(v) and 0 <= v <= MAX_PANE_SIZE for v in value):
        raise ValueError(f"its sizes are not whole numbers from 0 to {MAX_PANE_SIZE:,}")
    return list(value)


def _beam_width(value: object) -> int:
    if not _is_int(value) or value not in BEAM_WIDTH_RANGE:
        raise ValueError(f"it is not a whole number from {BEAM_WIDTH_RANGE.start} to "
                         f"{BEAM_WIDTH_RANGE.stop - 1}")
    return value


def _precision(value: object) -> str:
    if value != "" and value not in PRECISIONS:
        raise ValueError(f"it is not one of {', '.join(PRECISIONS)} (or empty for automatic)")
    return value


def _recent_models(value: object) -> list[str]:
    """Entries that are not file names, and repeats, are dropped (the rest kept, in order) and
    the list is cut to MAX_RECENT_MODELS."""
    if not isinstance(value, list):
        raise ValueError(f"it is {_kind(value)}, not a list")
    kept: list[str] = []
    for entry in value:
        try:
            path = _path(entry)
        except ValueError:
            continue
        if path and path not in kept:
            kept.append(path)
            if len(kept) == MAX_RECENT_MODELS:
                break
    return kept


def _sidecar_ext(value: object) -> str:
    text = _text(value)
    if len(text) > MAX_SIDECAR_EXT_CHARS or not text.isprintable():
        raise ValueError(f"it is not a file extension of at most {MAX_SIDECAR_EXT_CHARS} "
                         "printable characters")
    return normalise_sidecar_ext(text)


def _metadata_mode(value: object) -> str:
    if value not in METADATA_MODES:
        raise ValueError(f"it is not one of {', '.join(METADATA_MODES)}")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"it is {_kind(value)}, not true or false")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: object) -> str:
    """A few words for a JSON value's type, for the log line."""
    names = {bool: "true/false", int: "a number", float: "a number", str: "text",
             list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


CHECKERS: dict[str, Checker] = {
    "window_geometry": _geometry,
    "splitter_sizes": _splitter_sizes,
    "last_model": _path,
    "weights_path": _path,
    "beam_width": _beam_width,
    "caption_precision": _precision,
    "recent_models": _recent_models,
    "last_image_folder": _path,
    "last_export_folder": _path,
    "last_export_path": _path,
    "sidecar_ext": _sidecar_ext,
    "restore_session": _bool,
    "read_existing_captions": _bool,
    "metadata_mode": _metadata_mode,
    "metadata_embed_confirmed": _bool,
}
