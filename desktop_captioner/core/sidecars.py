"""Where an image's caption sidecar lives, with one rule that never maps two images to one file.

The rule: ``photo.jpg`` -> ``photo.txt`` (the convention caption tools read), unless another image
in the same folder has the same stem (``a.jpg`` beside ``a.png`` or ``a.JPG``; compared without
case, as Windows and macOS do): then every one of those images uses its full name,
``a.jpg.txt`` and ``a.png.txt``. The rule depends only on the folder's image names, so writing
and reading sidecars, in the CLI and the GUI, always agree on the file.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from desktop_captioner.core.image_types import is_image_path

DEFAULT_SIDECAR_EXT = ".txt"


def normalise_sidecar_ext(ext: str) -> str:
    """``txt``/``.txt`` -> ``.txt``; refuses names that are not a plain extension."""
    ext = ext if ext.startswith(".") else "." + ext
    if len(ext) < 2 or any(c in ext[1:] for c in "./\\") or ext.strip() != ext:
        raise ValueError(f"{ext!r} is not a file extension such as .txt or .caption")
    return ext


class SidecarNames:
    """``path(image)`` per the module's rule; each folder is listed once per instance."""

    def __init__(self, ext: str = DEFAULT_SIDECAR_EXT) -> None:
        self.ext = normalise_sidecar_ext(ext)
        self._stems: dict[Path, Counter[str]] = {}

    def path(self, image: str | Path) -> Path:
        image = Path(image)
        if self.stem_is_shared(image):
            return image.with_name(image.name + self.ext)
        return image.with_suffix(self.ext)

    def stem_is_shared(self, image: Path) -> bool:
        return self._folder_stems(image.parent)[image.stem.casefold()] > 1

    def _folder_stems(self, folder: Path) -> Counter[str]:
        stems = self._stems.get(folder)
        if stems is None:
            try:
                names = [p for p in folder.iterdir() if is_image_path(p)]
            except OSError:
                names = []
            stems = self._stems[folder] = Counter(p.stem.casefold() for p in names)
        return stems
