"""Project error types.

Every *expected* problem (bad file, missing weights, unusable dataset, cancelled work) is a
``CaptionerError`` whose message is one plain sentence naming the file and what is wrong. The CLI
prints that message on one line and the GUI shows it in a dialog; only unexpected exceptions get a
traceback, and that goes to the log file, never to the user.
"""

from __future__ import annotations


class CaptionerError(Exception):
    """An expected problem with a one-line, user-facing message."""


class ImageLoadError(CaptionerError):
    """An image path that cannot be turned into pixels (missing, corrupt, not an image, ...)."""


class DatasetError(CaptionerError):
    """A dataset folder that cannot be used for training or evaluation."""


class WeightsError(CaptionerError):
    """The VGG16 weights file is missing, unreachable, or not the file we need."""


class ModelFileError(CaptionerError):
    """A caption model file that is not ours, is damaged, or asks for something we cannot honour."""


class Cancelled(CaptionerError):
    """Work stopped because the user asked it to."""
