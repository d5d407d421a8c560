"""Files shipped with the app: the icon, and optionally VGG16 weights and a default model.

A PyInstaller bundle unpacks its data under ``sys._MEIPASS`` (the ``_internal`` folder of the
onedir build); a source checkout keeps them in the repository's ``resources/`` folder, which a pip
install carries as ``desktop_captioner/resources``.
Both cases answer through ``bundled_resource`` so weights lookup, the GUI and the self-test agree
on where an embedded file lives. Pure standard library: the GUI thread calls it at start-up.
"""

from __future__ import annotations

import sys
from pathlib import Path

RESOURCES_DIR = "resources"
WEIGHTS_RESOURCE = "weights/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
DEFAULT_MODEL_RESOURCE = "models/default.dcmodel"


def resources_root() -> Path:
    """The folder holding shipped resources: inside the bundle when frozen, else the source tree."""
    bundle_dir = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle_dir:
        return Path(bundle_dir) / RESOURCES_DIR
    # desktop_captioner/resources links to the repository's resources/, and the wheel carries a
    # copy there, so a source checkout and a pip install find the same files.
    return Path(__file__).resolve().parents[1] / RESOURCES_DIR


def bundled_resource(relative: str) -> Path | None:
    """The shipped file at ``relative`` (e.g. ``"icons/app.png"``), or None if not shipped."""
    path = resources_root() / relative
    return path if path.is_file() else None


def bundled_weights() -> Path | None:
    """VGG16 notop weights embedded with ``build.sh --weights``, so the app captions offline."""
    return bundled_resource(WEIGHTS_RESOURCE)


def bundled_model() -> Path | None:
    """A default caption model embedded with ``build.sh --model``."""
    return bundled_resource(DEFAULT_MODEL_RESOURCE)
