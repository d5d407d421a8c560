"""Model → Model Info: what was trained on what, and how well it scored."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_captioner.gui.workers.caption_worker import ModelInfo


def _score(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "—"


def _precision(info: ModelInfo) -> str:
    """The format captioning runs in, and the one the model was trained with if different."""
    encoder = info.manifest.get("encoder") or {}
    trained = encoder.get("precision")
    if not trained or trained == info.precision:
        return info.precision
    return f"{info.precision} (trained on {trained} features)"


def model_info_html(info: ModelInfo) -> str:
    """Name, vocabulary size, BLEU from training, date and dataset as a small HTML table."""
    manifest = info.manifest
    metrics = manifest.get("metrics") or {}
    provenance = manifest.get("provenance") or {}
    dataset = provenance.get("dataset_root") or provenance.get("dataset") or "—"
    layout = provenance.get("layout")
    rows = [
        ("Name", info.name),
        ("File", str(info.path)),
        ("Vocabulary", f"{info.vocab_size:,} words" if info.vocab_size else "—"),
        ("Precision", _precision(info)),
        ("BLEU-1 / 2 / 3 / 4", " / ".join(_score(metrics.get(f"bleu{n}")) for n in range(1, 5))),
        ("Trained", str(provenance.get("created", "—"))),
        ("Dataset", f"{dataset} ({layout})" if layout else str(dataset)),
    ]
    image_size = (manifest.get("encoder") or {}).get("image_size")
    if image_size:
        rows.append(("Image size", f"{image_size} px"))
    body = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table cellspacing='6'>{body}</table>"


def show_model_info(parent: QWidget, info: ModelInfo | None) -> None:
    if info is None:
        QMessageBox.information(parent, "Model Info", "No caption model is loaded.")
        return
    box = QMessageBox(QMessageBox.Icon.NoIcon, "Model Info", model_info_html(info),
                      QMessageBox.StandardButton.Close, parent)
    box.exec()
