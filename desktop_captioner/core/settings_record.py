"""Settings dataclasses that travel as JSON inside model files and checkpoints."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, Mapping, TypeVar

Record = TypeVar("Record", bound="SettingsRecord")


class SettingsRecord:
    """``to_dict``/``from_dict`` for a dataclass of plain values.

    Keys the class does not know are ignored, so a file written by a newer version that added a
    setting still loads; missing keys take their defaults, so older files load too.
    """

    def to_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[Record], data: Mapping[str, Any]) -> Record:
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{key: value for key, value in data.items() if key in known})
