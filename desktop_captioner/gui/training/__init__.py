"""Train New Model dialog: dataset inspection, settings, live progress, results.

Import ``TrainingDialog`` from here; nothing in this package imports TensorFlow at module level.
"""

from desktop_captioner.gui.training.dialog import TrainingDialog

__all__ = ["TrainingDialog"]
