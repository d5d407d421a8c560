"""Caption sidecars written batch by batch, named by ``sidecars.SidecarNames`` so none collide.

Two images that share a stem in one folder (``a.jpg``, ``a.png``) each get a full-name sidecar
(``a.jpg.txt``, ``a.png.txt``) instead of fighting over ``a.txt``; the writer counts and logs
them so the user learns why those files are named differently. Existing sidecars are the user's
work and are kept unless ``overwrite`` is asked for. A sidecar that cannot be written fails only
its own image.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from desktop_captioner.core.atomic import atomic_write_text
from desktop_captioner.core.errors import describe_os_error
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.sidecars import SidecarNames
from desktop_captioner.core.text import clean_caption

log = logging.getLogger(__name__)


class SidecarWriter:
    """Writes each successful caption to its image's sidecar and keeps the counts for a summary."""

    def __init__(self, names: SidecarNames, overwrite: bool = False) -> None:
        self.names = names
        self.overwrite = overwrite
        self.written_images: list[Path] = []  # images whose sidecar this writer wrote
        self.kept = 0  # an existing sidecar left alone
        self.skipped = 0  # a failed image: no caption to write
        self.failed = 0  # the sidecar file could not be written
        self.full_names: list[Path] = []  # sidecars named in full because a stem is shared

    @property
    def written(self) -> int:
        return len(self.written_images)

    def write(self, results: Iterable[CaptionResult]) -> list[str]:
        """Write one batch; returns one sentence per sidecar that could not be written."""
        errors = []
        for result in results:
            if not result.ok:
                self.skipped += 1
                continue
            target = self.names.path(result.path)
            if self.names.stem_is_shared(result.path):
                self.full_names.append(target)
                log.info("%s shares its name with another image in %s: caption goes to %s",
                         result.path.name, result.path.parent, target.name)
            try:
                if not self.overwrite and target.is_file():
                    self.kept += 1
                    continue
                atomic_write_text(target, clean_caption(result.caption) + "\n")
            except OSError as exc:
                self.failed += 1
                errors.append(describe_os_error(target, exc))
                continue
            self.written_images.append(result.path)
        return errors

    def summary(self) -> str:
        """One line for the end of a run, naming the shared-name rule when it was applied."""
        text = f"Sidecars: {self.written} written, {self.kept} existing kept"
        if self.failed:
            text += f", {self.failed} could not be written"
        if self.full_names:
            text += (f"; {len(self.full_names)} shared a name with another image in their folder "
                     f"and got full-name sidecars ({self.full_names[0].name})")
        return text + "."
