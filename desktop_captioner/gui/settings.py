"""User settings kept in one JSON file in ``paths.config_dir()``.

Qt's QSettings would write to the registry on Windows and ignore ``DESKTOP_CAPTIONER_HOME``;
a JSON file written atomically is portable, hermetic in tests, and readable by people.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from desktop_captioner.core import paths
from desktop_captioner.core.atomic import atomic_write_text
from desktop_captioner.core.metadata import METADATA_MODES
from desktop_captioner.core.precision import PRECISIONS
from desktop_captioner.core.sidecars import DEFAULT_SIDECAR_EXT, normalise_sidecar_ext

log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "settings.json"
MAX_RECENT_MODELS = 8


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


def _checked(data: object, path: Path) -> Settings:
    """Build Settings from parsed JSON, refusing values of the wrong type."""
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    defaults = Settings()
    values = {}
    for spec in fields(Settings):
        if spec.name not in data:
            continue
        value, default = data[spec.name], getattr(defaults, spec.name)
        if isinstance(default, list):
            ok = isinstance(value, list) and all(
                isinstance(v, int if spec.name == "splitter_sizes" else str) for v in value)
        elif isinstance(default, bool):
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, type(default)) and not isinstance(value, bool)
        if not ok:
            raise ValueError(f"{path}: setting {spec.name!r} has the wrong type")
        values[spec.name] = value
    settings = Settings(**values)
    settings.beam_width = min(max(settings.beam_width, 1), 10)
    if settings.caption_precision not in PRECISIONS:
        settings.caption_precision = ""
    try:
        settings.sidecar_ext = normalise_sidecar_ext(settings.sidecar_ext)
    except ValueError:
        settings.sidecar_ext = DEFAULT_SIDECAR_EXT
    if settings.metadata_mode not in METADATA_MODES:
        settings.metadata_mode = Settings.metadata_mode
    return settings


def load_settings(path: Path | None = None) -> tuple[Settings, str]:
    """Read the settings; a missing file gives defaults silently, a damaged one gives defaults
    plus a one-sentence warning for the status bar (the app must start either way)."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), ""
    except OSError as exc:
        log.warning("cannot read settings %s: %s", path, exc)
        return Settings(), f"{path} could not be read, so default settings are used."
    try:
        return _checked(json.loads(text), path), ""
    except (ValueError, TypeError) as exc:
        log.warning("settings file %s is damaged (%s); using defaults", path, exc)
        return Settings(), f"{path} is damaged, so default settings are used."


def save_settings(settings: Settings, path: Path | None = None) -> None:
    atomic_write_text(path or settings_path(), json.dumps(asdict(settings), indent=2) + "\n")
