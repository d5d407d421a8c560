"""User settings kept in one JSON file in ``paths.config_dir()``.

Qt's QSettings would write to the registry on Windows and ignore ``DESKTOP_CAPTIONER_HOME``;
a JSON file written atomically is portable, hermetic in tests, and readable by people.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from desktop_captioner.core import paths
from desktop_captioner.core.atomic import atomic_write_text
from desktop_captioner.core.damaged_files import set_aside
from desktop_captioner.core.sidecars import DEFAULT_SIDECAR_EXT
from desktop_captioner.gui.settings_schema import CHECKERS, MAX_RECENT_MODELS

log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "settings.json"
MAX_SETTINGS_BYTES = 1_000_000  # a real one is about 1 kB


def settings_path() -> Path:
    return paths.config_dir() / SETTINGS_FILE_NAME


@dataclass
class Settings:
    """Everything the window remembers between runs."""

    window_geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    splitter_sizes: list[int] = field(default_factory=list)
    last_model: str = ""
    weights_path: str = ""
    beam_width: int = 3
    caption_precision: str = ""  # "" = the Captioner's automatic choice, or a PRECISIONS entry
    recent_models: list[str] = field(default_factory=list)
    last_image_folder: str = ""
    last_export_folder: str = ""
    last_export_path: str = ""  # where the unsaved-work guard's Save writes
    sidecar_ext: str = DEFAULT_SIDECAR_EXT
    restore_session: bool = True  # reopen the last session when started without photos
    read_existing_captions: bool = True  # adding photos reads the captions they already have
    metadata_mode: str = "xmp"  # Write to Photos' Metadata: "xmp" sidecars or "embed"
    metadata_embed_confirmed: bool = False  # the user agreed once that embedding changes photos

    def remember_model(self, model_path: str | Path) -> None:
        """Make ``model_path`` the last model and the first recent one."""
        text = str(model_path)
        self.last_model = text
        self.recent_models = [text] + [m for m in self.recent_models if m != text]
        del self.recent_models[MAX_RECENT_MODELS:]


def _checked(data: dict, path: Path) -> Settings:
    """Settings from a parsed JSON object, each value checked on its own: a bad one keeps its
    default (one log line), the others are used. Keys this version does not know are ignored."""
    values = {}
    for name, check in CHECKERS.items():
        if name not in data:
            continue
        value = data[name]
        try:
            values[name] = check(value)
        except ValueError as exc:
            log.warning("%s: setting %r is not valid (%s); its default is used", path, name, exc)
            continue
        if isinstance(value, list) and values[name] != value:
            log.warning("%s: setting %r kept %d of its %d entries (the others were not valid, "
                        "repeated or over the limit)", path, name, len(values[name]), len(value))
    return Settings(**values)


def _read_object(path: Path) -> dict:
    """The JSON object in ``path``; ``OSError`` when it cannot be read, ``ValueError`` saying
    why when it is not a settings file (too big, not UTF-8, not JSON, nested too deep, not an
    object)."""
    with path.open("rb") as handle:
        raw = handle.read(MAX_SETTINGS_BYTES + 1)
    if len(raw) > MAX_SETTINGS_BYTES:
        raise ValueError(f"it is larger than {MAX_SETTINGS_BYTES:,} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("it is not UTF-8 text") from None
    except RecursionError:
        raise ValueError("it is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"it is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("it does not hold a JSON object")
    return data


def load_settings(path: Path | None = None) -> tuple[Settings, str]:
    """Read the settings. A missing file gives defaults silently. A file that cannot be used
    (unreadable, a folder, not a JSON object) gives defaults plus a one-sentence warning for the
    status bar, and is moved aside (``set_aside``) so it is neither lost nor read again; the app
    must start either way. Single bad settings fall back alone (see ``_checked``)."""
    path = path or settings_path()
    try:
        return _checked(_read_object(path), path), ""
    except FileNotFoundError:
        return Settings(), ""
    except IsADirectoryError:
        problem, state = "it is a folder, not a file", "could not be read"
    except OSError as exc:
        problem, state = str(exc.strerror or exc), "could not be read"
    except ValueError as exc:
        problem, state = str(exc), "is damaged"
    log.warning("settings file %s %s (%s); default settings are used", path, state, problem)
    warning = f"{path} {state}, so default settings are used ({problem})"
    try:
        kept = set_aside(path, "settings file")
    except OSError as exc:
        log.warning("could not move %s aside: %s", path, exc)
        return Settings(), warning + "."
    return Settings(), f"{warning}; it was kept as {kept.name}."


def save_settings(settings: Settings, path: Path | None = None) -> None:
    atomic_write_text(path or settings_path(), json.dumps(asdict(settings), indent=2) + "\n")
