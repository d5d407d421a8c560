"""What ``caption --resume`` keeps from an interrupted run's export, and what it captions again.

The rules: a row with a caption for an image in this run's input is kept (that image is not
captioned again); an error row is retried, since the error may have been passing (a file still
being copied, a full disk); a row for an image that is not in this run's input is kept too, at
the end of the file, because a caption is never thrown away silently. A CSV or JSON Lines file
that does not end with a line end was cut inside a write, so its last row is captioned again.
Foreign files are refused (``ExportFormatError``) before anything is written: by
``read_export``, or here when not one of the file's records is a caption row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from desktop_captioner.core.export_reader import ExportFormatError, read_export
from desktop_captioner.core.results import CaptionResult


@dataclass
class ResumeState:
    """The rows an earlier run left in its export, sorted into kept and to-do (empty: a fresh
    start)."""

    done: dict[Path, CaptionResult] = field(default_factory=dict)  # captioned input images
    others: list[CaptionResult] = field(default_factory=list)  # images not in this input
    retried: int = 0  # error rows and a cut-off last row: captioned again
    problems: list[str] = field(default_factory=list)  # unreadable rows, from read_export

    @property
    def kept(self) -> int:
        return len(self.done) + len(self.others)

    def kept_row(self, row: Path | CaptionResult) -> CaptionResult | None:
        """The earlier run's caption for an input row still to do, if it has one."""
        return self.done.get(row) if isinstance(row, Path) else None


def read_resume(target: str | Path, inputs: Iterable[Path]) -> ResumeState:
    """Read ``target`` (this app's CSV, JSON or JSON Lines) against this run's input paths."""
    target = Path(target)
    read = read_export(target)
    if read.problems and not read.results:
        raise ExportFormatError(f"{target} is not a captions file this app wrote (none of its "
                                f"{len(read.problems)} records is a caption row).")
    results = read.results
    state = ResumeState(problems=read.problems)
    wanted = set(inputs)
    if results and _cut_off(target) and results[-1].path in wanted:
        results = results[:-1]
        state.retried += 1
    for result in results:
        if result.path not in wanted:
            state.others.append(result)
        elif result.ok:
            state.done.setdefault(result.path, result)
        else:
            state.retried += 1
    return state


def _cut_off(target: Path) -> bool:
    """Whether a line-based export ends inside a line (an append the system died in)."""
    if target.suffix.lower() == ".json":
        return False  # JSON arrays are only ever replaced whole
    with target.open("rb") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            return False
        handle.seek(-1, 2)
        return handle.read(1) != b"\n"
