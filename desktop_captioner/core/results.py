"""The one record type for a captioned (or failed) image.

It lives in its own TensorFlow-free module because the Captioner produces it, while the exporters,
the CLI and the GUI table all consume it, and the GUI must be able to import it instantly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATUS_OK = "ok"
STATUS_ERROR = "error"

# Where a caption came from: the model, a person's edit, or the photo/a file that already had it.
SOURCE_MODEL = "model"
SOURCE_EDITED = "edited"
SOURCE_IMPORTED = "imported"
SOURCES = (SOURCE_MODEL, SOURCE_EDITED, SOURCE_IMPORTED)


@dataclass(frozen=True)
class CaptionResult:
    """One image's outcome: a caption (status "ok") or the reason there is none (status "error")."""

    path: Path
    caption: str
    score: float | None
    status: str
    error: str = ""
    source: str = SOURCE_MODEL

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @classmethod
    def failure(cls, path: Path, error: str) -> "CaptionResult":
        return cls(path=Path(path), caption="", score=None, status=STATUS_ERROR, error=error)
