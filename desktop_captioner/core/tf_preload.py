"""Import TensorFlow without freezing the window that waits for it.

The GUI imports TensorFlow in a worker thread, but a thread only helps while the import lets go
of Python's interpreter lock (GIL). Two steps of ``import tensorflow`` hold it for long single
stretches, and the GUI thread cannot run a line of Python (repaints, list models, timers)
until they end:

- ``dlopen`` of ``libtensorflow_cc`` runs its C++ static initialisers (op and kernel
  registration) in one long call. Python's import machinery calls ``dlopen`` with the GIL held; a
  ctypes call into libc's ``dlopen`` releases it. Loading the same files that way first does
  the work off the GIL; the import then finds them already loaded.
- ``tf.compat.v1`` eagerly imports TF Lite's generated flatbuffer schema, a 1 MB ``.pyc`` whose
  unmarshalling is one long C call. Nothing in this app converts TF Lite models, so the
  module is given a standard :class:`importlib.util.LazyLoader`: it is loaded, unchanged, on
  first attribute access, which for us is never.
- The import creates ~300k long-lived objects, so every full garbage collection it triggers
  walks them all while holding the GIL. The collector is paused for the import
  and TensorFlow's objects are then frozen (:func:`gc.freeze`) out of its reach for good.

The stalls these remove are measured in ``benchmarks/bench_gui.py`` (see benchmarks/README.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import sys
from pathlib import Path
from typing import Iterator, Sequence

log = logging.getLogger(__name__)

#: TensorFlow's shared libraries in load order (the second depends on the first), Linux names.
_LIBRARIES = ("libtensorflow_framework.so.2", "libtensorflow_cc.so.2")
#: Modules TensorFlow imports eagerly, only for TF Lite, that cost one long GIL-holding call.
_LAZY_MODULES = frozenset({"tensorflow.lite.python.schema_py_generated",
                           "tensorflow.lite.tools.flatbuffer_utils"})


def _tensorflow_folder() -> Path | None:
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def load_libraries_without_gil() -> list[str]:
    """``dlopen`` TensorFlow's C++ libraries via libc (GIL released); returns what was loaded.

    Linux only: that is where the measurement was made and where the library names are known.
    Anything unexpected (no libc ``dlopen``, libraries elsewhere, as in some bundles) just
    leaves the work to the normal import, which is correct, only slower to let go."""
    folder = _tensorflow_folder() if sys.platform.startswith("linux") else None
    if folder is None:
        return []
    try:
        dlopen = ctypes.CDLL(None).dlopen
    except (OSError, AttributeError):
        return []
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = (ctypes.c_char_p, ctypes.c_int)
    loaded = []
    for name in _LIBRARIES:
        path = folder / name
        if path.is_file() and dlopen(os.fsencode(path), os.RTLD_NOW):
            loaded.append(name)
    return loaded


class _LazyModuleFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of a few named modules in :class:`importlib.util.LazyLoader`."""

    def __init__(self, names: frozenset[str]) -> None:
        self._names = names

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._names:
            return None
        for finder in sys.meta_path:  # the real finder: path-based, or a bundle's frozen one
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None or spec.loader is None:
                continue
            try:
                spec.loader = importlib.util.LazyLoader(spec.loader)
            except TypeError:  # a loader without exec_module cannot be made lazy
                pass
            return spec
        return None


@contextlib.contextmanager
def gil_friendly_import() -> Iterator[None]:
    """Context for ``import tensorflow`` that keeps its long GIL-holding steps out of it."""
    loaded = load_libraries_without_gil()
    log.info("TensorFlow libraries loaded without the GIL: %s", ", ".join(loaded) or "nothing")
    finder = _LazyModuleFinder(_LAZY_MODULES)
    sys.meta_path.insert(0, finder)
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        gc.freeze()
        if collecting:
            gc.enable()
