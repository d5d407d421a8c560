"""QApplication set-up and ``main()``: the window is on screen before anything slow happens
(TensorFlow is imported later, in the captioning worker thread)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_captioner import __version__
from desktop_captioner.core.applog import log_file
from desktop_captioner.core.bundled import bundled_model, bundled_resource
from desktop_captioner.gui.main_window import MainWindow

log = logging.getLogger(__name__)

ICON_RESOURCE = "icons/desktop-captioner.png"


def app_icon() -> QIcon:
    path = bundled_resource(ICON_RESOURCE)
    return QIcon(str(path)) if path else QIcon()


def _report_unexpected(exc_type, exc, tb) -> None:
    """An exception escaping a slot: full traceback to the log, one sentence to the user."""
    log.error("unexpected error", exc_info=(exc_type, exc, tb))
    if QApplication.instance() is not None:
        QMessageBox.critical(None, "Unexpected error",
                             f"Something went wrong ({exc_type.__name__}: {exc}). "
                             f"Details are in {log_file()}.")


_QT_LOG_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
                  QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
                  QtMsgType.QtFatalMsg: logging.CRITICAL}


def _log_qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Qt's own messages go to the log file, not the terminal: a platform plugin's remark such
    as offscreen's "does not support propagateSizeHints()" is no concern of the user's."""
    logging.getLogger("qt").log(_QT_LOG_LEVELS.get(kind, logging.WARNING), "%s", message)


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    qInstallMessageHandler(_log_qt_message)
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Desktop Captioner")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("desktop-captioner")
    app.setWindowIcon(app_icon())
    return app


def main(paths: Sequence[str | Path] = (), model: str | Path | None = None,
         weights: str | Path | None = None, train_dir: str | Path | None = None,
         restore: bool = True, captions: str | Path | None = None) -> int:
    """Open the main window; ``paths`` are added, ``captions`` imported and ``model`` loaded
    once it is showing, and the last session restored when there are no ``paths`` (unless
    ``restore`` is False)."""
    app = create_application()
    sys.excepthook = _report_unexpected
    window = MainWindow(weights_override=Path(weights) if weights else None)
    window.show()
    model = model or (None if window.settings.last_model else bundled_model())
    QTimer.singleShot(0, window, lambda: window.start(paths, model, train_dir, restore, captions))
    return app.exec()
