"""The names of the metadata write modes, apart from the writer so that choosing one (settings,
dialogs, ``--metadata``) does not import exiv2: only writing does (``core/metadata.py``)."""

from __future__ import annotations

MODE_XMP, MODE_EMBED = "xmp", "embed"
METADATA_MODES = (MODE_XMP, MODE_EMBED)
