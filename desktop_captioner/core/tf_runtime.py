"""TensorFlow and Keras, loaded once and quietly.

TensorFlow's C++ start-up writes INFO lines (oneDNN notice, CUDA probing, "All log messages
before absl::InitializeLog()") straight to file descriptor 2 before its logging is configured,
so ``TF_CPP_MIN_LOG_LEVEL`` cannot silence them. They mean nothing to a user captioning photos,
so while TensorFlow loads and probes its devices, fd 2 points at the app's log file. The import
itself goes through :func:`~desktop_captioner.core.tf_preload.gil_friendly_import`, so a GUI
worker thread can load TensorFlow without freezing the window. Every core
module that computes with TensorFlow imports ``tf``/``keras`` from here, so the CLI, the GUI
worker threads and the self-test all get the same quiet start.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import Iterator

from desktop_captioner.core.applog import log_file
from desktop_captioner.core.tf_preload import gil_friendly_import

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _fd2_to_log() -> Iterator[None]:
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all (some windowed launches): nothing to redirect
        yield
        return
    with open(log_file(), "ab") as log:
        if sys.stderr is not None:
            sys.stderr.flush()
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


with _fd2_to_log(), gil_friendly_import():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices("GPU")  # the CUDA probe prints on first device query



def freeze_long_lived_objects() -> None:
    """Move every object alive now out of the garbage collector's reach (:func:`gc.freeze`).

    Call it once a model is built or loaded: TensorFlow and the models leave a few hundred
    thousand long-lived objects, and every full collection would walk them all while holding
    the GIL, stalling the window each time.
    """
    gc.freeze()


__all__ = ["freeze_long_lived_objects", "keras", "tf"]
