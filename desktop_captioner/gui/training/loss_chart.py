"""Live loss chart: train and validation loss per epoch over a smoothed per-batch loss line.

The per-epoch points show whether the model is still learning (val going down) or starting to
memorise (train down, val up); the faint batch line shows something is happening inside an epoch.
"""

from __future__ import annotations

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

SMOOTHING = 0.3  # weight of the newest batch loss in the exponential moving average


def _series(name: str, color: str, width: float, markers: bool) -> QLineSeries:
    series = QLineSeries()
    series.setName(name)
    series.setPen(QPen(QColor(color), width))
    series.setPointsVisible(markers)
    return series


class LossChart(QChartView):
    """x is the epoch (fractions inside an epoch for batches), y the caption loss."""

    def __init__(self, parent: QWidget | None = None) -> None:
        chart = QChart()
        chart.setTitle("Loss (lower is better)")
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setMargins(QMargins(4, 4, 4, 4))
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(220)
        self.batch_series = _series("batch loss (smoothed)", "#9bb8d3", 1.2, False)
        self.train_series = _series("train loss per epoch", "#1f5fa8", 2.4, True)
        self.val_series = _series("validation loss per epoch", "#d9661f", 2.4, True)
        self.x_axis, self.y_axis = QValueAxis(), QValueAxis()
        self.x_axis.setTitleText("epoch")
        self.x_axis.setLabelFormat("%d")
        self.y_axis.setTitleText("loss")
        self.y_axis.setLabelFormat("%.2f")
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        for series in (self.batch_series, self.train_series, self.val_series):
            chart.addSeries(series)
            series.attachAxis(self.x_axis)
            series.attachAxis(self.y_axis)
        self._epochs = 1
        self._smoothed: float | None = None
        self.reset()

    def reset(self, epochs: int = 1) -> None:
        for series in (self.batch_series, self.train_series, self.val_series):
            series.clear()
        self._smoothed = None
        self.set_epochs(epochs)
        self.y_axis.setRange(0.0, 1.0)

    def set_epochs(self, epochs: int) -> None:
        self._epochs = max(int(epochs), 1)
        self.x_axis.setRange(0.0, float(self._epochs))
        self.x_axis.setTickCount(min(self._epochs, 10) + 1)

    def add_batch_loss(self, position: float, loss: float) -> None:
        """``position`` counts epochs done, the current one as a fraction (2.5 = mid 3rd)."""
        if self._rewind(self.batch_series, position):
            self._smoothed = None
        self._smoothed = loss if self._smoothed is None else (
            SMOOTHING * loss + (1 - SMOOTHING) * self._smoothed)
        self.batch_series.append(position, self._smoothed)
        self._fit_y()

    def add_epoch(self, epoch: int, loss: float | None, val_loss: float | None) -> None:
        """One point per series at x = ``epoch`` (1-based, the end of that epoch)."""
        for series, value in ((self.train_series, loss), (self.val_series, val_loss)):
            if value is not None:
                self._rewind(series, epoch)
                series.append(float(epoch), float(value))
        if epoch > self._epochs:
            self.set_epochs(epoch)
        self._fit_y()

    @staticmethod
    def _rewind(series: QLineSeries, x: float) -> bool:
        """Drop points at or after ``x``: a resumed run repeats the epoch it was cancelled in."""
        points = series.points()
        keep = len(points)
        while keep and points[keep - 1].x() >= x:
            keep -= 1
        if keep < len(points):
            series.removePoints(keep, len(points) - keep)
            return True
        return False

    def _fit_y(self) -> None:
        values = [p.y() for s in (self.batch_series, self.train_series, self.val_series)
                  for p in s.points()]
        if not values:
            return
        low, high = min(values), max(values)
        pad = max((high - low) * 0.08, 0.05)
        self.y_axis.setRange(max(low - pad, 0.0), high + pad)
        self.y_axis.applyNiceNumbers()

    def epoch_points(self) -> list[QPointF]:
        return list(self.train_series.points())
