"""Model files changed on purpose, for tests of what loading refuses or survives."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from desktop_captioner.core import modelfile


def rewritten_model(model: Path, out: Path, change) -> Path:
    """A copy of ``model`` whose members ``change(members)`` edits in place; the manifest's
    checksums are brought up to date, so only the edit itself can make it unreadable."""
    with zipfile.ZipFile(model) as source:
        members = {name: source.read(name) for name in source.namelist()}
    change(members)
    manifest = json.loads(members.pop(modelfile.MANIFEST_MEMBER))
    manifest["members"] = {name: hashlib.sha256(data).hexdigest()
                           for name, data in members.items()}
    with zipfile.ZipFile(out, "w") as target:
        target.writestr(modelfile.MANIFEST_MEMBER, json.dumps(manifest))
        for name, data in members.items():
            target.writestr(name, data)
    return out
