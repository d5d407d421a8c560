"""Inspect a dataset folder in the background and say, in plain words, what was found.

``load_dataset`` never decodes an image, but a folder on a slow network drive can still take a
while to list, so it runs on a thread pool and a result for a folder the user has since replaced
is dropped.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QHeaderView,
    QLabel,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_captioner.core.dataset import Dataset, load_dataset
from desktop_captioner.core.errors import CaptionerError, describe_failure
from desktop_captioner.core.sample_dataset import make_sample_dataset
from desktop_captioner.gui.training.flickr8k_download import Flickr8kDownloadRow
from desktop_captioner.gui.workers.pool_job import run_in_pool

SAMPLE_IMAGES = 200  # enough generated scenes for the model to learn them well
LAYOUT_TEXTS = {"flickr8k": "Flickr8k (token file and images folder)",
                "kaggle": "Kaggle (captions.txt and Images/)",
                "karpathy": "Karpathy split file (dataset_*.json and its images)",
                "coco": "COCO 2017 (annotations/, train2017/ and val2017/)"}


def unusable_reason(summary: dict) -> str | None:
    """Why a dataset that loaded still cannot train a model, or None when it can.

    Training learns from the train split and stops early on val, so both need images (BLEU is
    scored on test, or on val when test is empty).
    """
    empty = [name for name in ("train", "val") if not summary["splits"][name]]
    if empty:
        return (f"The {' and '.join(empty)} split{'s' if len(empty) > 1 else ''} of "
                f"{summary['root']} {'are' if len(empty) > 1 else 'is'} empty; training needs "
                "images in both train and val.")
    return None


def _inspect(folder: Path, make_sample: bool) -> Dataset:
    """In a pool thread: write the sample dataset into ``folder`` when asked, then load it."""
    if make_sample:
        make_sample_dataset(folder, images=SAMPLE_IMAGES)
    return load_dataset(folder)


class DatasetPanel(QWidget):
    """Summary of the chosen folder: layout, counts, split sizes and an expandable problem list.

    ``inspected`` carries the ``Dataset`` when it can be trained on, ``rejected`` the reason when
    it cannot; the dialog enables Start on the first only.
    """

    inspected = Signal(object)
    rejected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._request = 0
        self.dataset: Dataset | None = None

        self.headline = QLabel("Choose a dataset folder (Flickr8k, the Kaggle copy, Karpathy's "
                               "dataset_*.json with its images, or COCO 2017).")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QFormLayout()
        self._values: dict[str, QLabel] = {}
        for key, label in (("layout", "Layout"), ("images", "Captioned images"),
                           ("captions", "Captions"), ("missing_images", "Captioned but missing"),
                           ("orphan_images", "Images without captions"), ("splits", "Split")):
            value = QLabel("–")
            self._values[key] = value
            self.details.addRow(label + ":", value)
        self._values["splits"].setToolTip(
            "train teaches the model, val decides when to stop, test measures the result on "
            "images the model never saw.")
        self.problems_toggle = QToolButton()
        self.problems_toggle.setCheckable(True)
        self.problems_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.problems_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.problems_toggle.setAutoRaise(True)
        self.problems_toggle.toggled.connect(self._show_problems)
        self.problems = QTreeWidget()
        self.problems.setHeaderLabels(["File", "Line", "Problem"])
        self.problems.setRootIsDecorated(False)
        self.problems.setWordWrap(True)
        self.problems.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.problems.setVisible(False)

        self.flickr8k = Flickr8kDownloadRow()  # its ``downloaded`` goes to the dialog

        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.flickr8k)
        self._layout.addWidget(self.headline)
        self._layout.addLayout(self.details)
        self._layout.addWidget(self.problems_toggle)
        self._layout.addWidget(self.problems, 1)
        self._layout.addStretch(1)  # keeps the summary at the top while the problems are hidden
        self._set_problems([])

    @property
    def busy(self) -> bool:
        return self._pool.activeThreadCount() > 0

    def inspect(self, folder: Path, make_sample: bool = False) -> None:
        """Start inspecting ``folder`` (after writing the sample dataset into it when asked);
        any result still due for an earlier folder is ignored."""
        self._request += 1
        self.dataset = None
        self.headline.setText(f"{'Making the sample dataset in' if make_sample else 'Inspecting'}"
                              f" {folder} …")
        for value in self._values.values():
            value.setText("–")
        self._set_problems([])
        run_in_pool(self, _inspect, Path(folder), make_sample, pool=self._pool,
                    on_result=functools.partial(self._on_loaded, self._request),
                    on_error=functools.partial(self._on_failed, self._request, Path(folder)))

    def wait(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    def _on_loaded(self, request: int, dataset: Dataset) -> None:
        if request != self._request:
            return
        summary = dataset.summary()
        splits = summary["splits"]
        self._values["layout"].setText(LAYOUT_TEXTS[summary["layout"]])
        for key in ("images", "captions", "missing_images", "orphan_images"):
            self._values[key].setText(f"{summary[key]:,}")
        self._values["splits"].setText(
            f"{splits['train']:,} train · {splits['val']:,} val · {splits['test']:,} test")
        self._set_problems(summary["problems"])
        reason = unusable_reason(summary)
        if reason:
            self._reject(reason, summary["problems"])
            return
        self.dataset = dataset
        self.headline.setText(
            f"<b>Ready:</b> {summary['images']:,} images with {summary['captions']:,} captions in "
            f"{summary['root']}." + (" Some lines were skipped; see the problems below."
                                     if summary["problems"] else ""))
        self.inspected.emit(dataset)

    def _on_failed(self, request: int, folder: Path, exc: Exception) -> None:
        if request != self._request:
            return
        if isinstance(exc, OSError) and not isinstance(exc, CaptionerError):
            self._reject(f"Cannot read {folder}: {exc}.", [])
        else:
            self._reject(describe_failure(exc, f"{folder} could not be inspected"), [])

    def _reject(self, reason: str, problems: list[dict]) -> None:
        self.headline.setText(f"<b style='color:#b00020'>This folder cannot be used:</b> {reason}")
        self._set_problems([{"file": "", "line": None, "message": reason}, *problems])
        self.problems_toggle.setChecked(True)
        self.rejected.emit(reason)

    def _set_problems(self, problems: list[dict]) -> None:
        self.problems.clear()
        for problem in problems:
            line = "" if problem["line"] is None else str(problem["line"])
            item = QTreeWidgetItem([Path(problem["file"]).name if problem["file"] else "",
                                    line, problem["message"]])
            item.setToolTip(0, problem["file"])
            item.setToolTip(2, problem["message"])
            self.problems.addTopLevelItem(item)
        self.problems.resizeColumnToContents(0)
        self.problems.resizeColumnToContents(1)
        count = len(problems)
        self.problems_toggle.setText(f"{count} problem{'s' if count != 1 else ''} found"
                                     if count else "No problems found")
        self.problems_toggle.setEnabled(bool(count))
        if not count:
            self.problems_toggle.setChecked(False)

    @Slot(bool)
    def _show_problems(self, shown: bool) -> None:
        self.problems_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.problems.setVisible(shown)
        self._layout.setStretch(self._layout.count() - 1, 0 if shown else 1)
