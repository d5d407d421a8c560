"""Where ``caption`` puts each finished batch: sidecars, photo metadata, CSV/JSON exports, or
stdout lines.

Sidecars and metadata are written before the exports, so an image listed in an export has them
too and a resumed run never needs to go back for them. Every batch is on disk before the next
one is captioned.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Sequence

from desktop_captioner.cli.metadata_output import MetadataCounts, write_metadata_for
from desktop_captioner.cli.terminal import TerminalProgress
from desktop_captioner.core.results import CaptionResult
from desktop_captioner.core.sidecar_writer import SidecarWriter
from desktop_captioner.core.streaming_export import StreamingExport
from desktop_captioner.core.text import clean_caption, name_on_a_line, name_text

log = logging.getLogger(__name__)


class CaptionOutputs:
    """The run's outputs, written batch by batch; use as a context manager."""

    def __init__(self, exports: Sequence[StreamingExport], sidecars: SidecarWriter | None,
                 progress: TerminalProgress, metadata_mode: str | None = None) -> None:
        self.exports = list(exports)
        self.sidecars = sidecars
        self.metadata_mode = metadata_mode
        self.metadata = MetadataCounts()
        self.print_rows = not self.exports and sidecars is None
        self.progress = progress
        self.written: list[CaptionResult] = []  # every row, in the order it went out

    def __enter__(self) -> "CaptionOutputs":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for export in self.exports:
            export.close()

    def write(self, batch: Sequence[CaptionResult]) -> None:
        if self.sidecars is not None:
            for error in self.sidecars.write(batch):
                self._say(error)
        if self.metadata_mode is not None:
            self.progress.close()
            counts = write_metadata_for(batch, self.metadata_mode)
            self.metadata.written += counts.written
            self.metadata.failed += counts.failed
        self.write_kept(batch)
        if self.print_rows:
            for result in batch:
                self._print_row(result)

    def write_kept(self, rows: Sequence[CaptionResult]) -> None:
        """Rows a resumed run keeps: their sidecars and metadata were written with them, before
        they reached the export, so only the exports take them again."""
        for export in self.exports:
            export.write(rows)
        self.written.extend(rows)

    def finish(self, in_order: Sequence[CaptionResult]) -> list[Path]:
        """End the run with the exports holding ``in_order``: a resumed run whose rows went out
        in another order is rewritten atomically. Returns the exports' paths."""
        rewrite = list(in_order) != self.written
        if rewrite:
            log.info("rewriting the exports in input order")
        return [export.rewrite(in_order) if rewrite else export.finish()
                for export in self.exports]

    def _print_row(self, result: CaptionResult) -> None:
        if result.ok:
            self.progress.close()  # end a half-drawn progress line before printing a row
            print(f"{name_on_a_line(result.path.name)}\t{clean_caption(result.caption)}",
                  flush=True)
        else:
            self._say(f"{name_on_a_line(result.path.name)}: "
                      f"{clean_caption(name_text(result.error))}")

    def _say(self, message: str) -> None:
        self.progress.close()
        print(f"desktop-captioner: {message}", file=sys.stderr)
