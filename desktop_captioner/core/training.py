"""Training the decoder: tf.data batches of whole captions, events, cancel, resume, early stopping.

Speed comes from teacher forcing on whole captions (one pass per caption) instead of the seed
tutorial's one sample per prefix, and from batches of similar lengths (sorted within windows of
shuffled captions) cut to their longest caption, so little compute goes to padding.

Determinism and resume: the caption order of epoch ``e`` is a pure function of ``(seed, e)``, and
the checkpoint written after every epoch holds every variable that changes during training
(weights, Dropout seed states, optimizer slots and step count), the best weights and the
early-stopping counters. Resuming therefore continues exactly where the last *completed* epoch
left off, and reaches the same weights as a run that was never interrupted.

Early stopping and checkpointing live in one custom callback rather than Keras' EarlyStopping and
ModelCheckpoint, because those reset their state in ``on_train_begin`` and cannot be resumed.
"""

from __future__ import annotations

import json
import time
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional, Sequence

import numpy as np

from desktop_captioner.core.atomic import atomic_write
from desktop_captioner.core.decoder import (
    DecoderConfig,
    build_decoder,
    compile_decoder,
    set_decoder_weights,
    teacher_forcing_pair,
)
from desktop_captioner.core.errors import CaptionerError, DatasetError
from desktop_captioner.core.feature_rows import FeatureMap, FeatureRows
from desktop_captioner.core.precision import resolve_precision
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.core.settings_record import SettingsRecord
from desktop_captioner.core.tf_runtime import keras, tf
from desktop_captioner.core.vocabulary import PAD, Vocabulary

CHECKPOINT_NAME = "checkpoint.npz"
FEATURE_CHUNK_ROWS = 16384  # rows read at once where all training features are summarised


@dataclass
class TrainingConfig(SettingsRecord):
    """Everything that decides the trained weights (recorded in the model file)."""

    epochs: int = 30
    batch_size: int = 64
    embedding_dim: int = 256
    hidden_dim: int = 512
    dropout: float = 0.3
    learning_rate: float = 1e-3
    clipnorm: float = 5.0
    patience: int = 3
    seed: int = 0
    min_count: int = 5
    max_length: int = 32
    precision: str = "auto"  # decoder compute: "float32" | "bfloat16" | "auto" (bf16 if native);
    # "int8" (an encoder format) computes the decoder in float32

    def decoder_config(self, vocab_size: int, feature_dim: int) -> DecoderConfig:
        return DecoderConfig(vocab_size=vocab_size, feature_dim=feature_dim,
                             embedding_dim=self.embedding_dim, hidden_dim=self.hidden_dim,
                             dropout=self.dropout)


@dataclass
class CaptionData:
    """One row per caption, pointing at its image's feature row (images are stored once)."""

    features: np.ndarray | FeatureRows  # n_images × feature_dim, float32 (FeatureRows: mapped)
    image_index: np.ndarray  # n_captions, int: row of ``features`` for each caption
    tokens: list[list[int]]  # encoded captions, START and END included

    def __len__(self) -> int:
        return len(self.tokens)


def encode_captions(vocab: Vocabulary, captions: Mapping[str, Sequence[str]],
                    names: Sequence[str], features_by_name: Mapping[str, np.ndarray]
                    ) -> CaptionData:
    """``CaptionData`` for the images ``names`` (one split), each with all its captions.

    Features from a ``FeatureMap`` (the feature cache) stay memory-mapped; others are stacked.
    """
    missing = [name for name in names if name not in features_by_name]
    if missing:
        raise DatasetError(f"No image features for {missing[0]} "
                           f"({len(missing)} image(s) of this split have none).")
    if not names:
        features = np.zeros((0, 0), np.float32)
    elif isinstance(features_by_name, FeatureMap):
        features = features_by_name.rows(names)
    else:
        features = np.stack([np.asarray(features_by_name[name], np.float32) for name in names])
    image_index, tokens = [], []
    for row, name in enumerate(names):
        for caption in captions.get(name, ()):
            image_index.append(row)
            tokens.append(vocab.encode(caption))
    return CaptionData(features, np.asarray(image_index, np.int64), tokens)


@dataclass(frozen=True)
class TrainingEvent:
    """What the GUI and CLI show. ``epoch`` is 1-based; ``eta`` is seconds for the whole run;
    ``batch``/``batches`` count training batches, or validation batches in "validate" events."""

    phase: str  # "train" | "validate" | "epoch_end" | "resumed" | "finished"
    epoch: int
    epochs: int
    batch: int = 0
    batches: int = 0
    loss: Optional[float] = None
    val_loss: Optional[float] = None
    captions_per_s: float = 0.0
    eta: Optional[float] = None
    best_val_loss: Optional[float] = None
    message: str = ""


EventCallback = Callable[[TrainingEvent], None]


@dataclass
class FitResult:
    model: keras.Model  # float32, holding the best-by-validation-loss weights
    decoder_config: DecoderConfig
    history: list[dict]
    epochs_run: int
    best_epoch: int
    best_val_loss: float
    stopped_early: bool


@dataclass
class _RunState:
    """The resumable bookkeeping, stored as JSON inside the checkpoint."""

    fingerprint: dict
    epochs_done: int = 0
    history: list[dict] = field(default_factory=list)
    best_val_loss: float = float("inf")
    best_epoch: int = 0
    wait: int = 0
    stopped_early: bool = False


SORT_WINDOW = 32  # batches whose captions are sorted by length together


def _batches(data: CaptionData, batch_rows: np.ndarray) -> tf.data.Dataset:
    """Batches of ((features, input tokens), target tokens); ``batch_rows`` holds one batch of
    caption indices per row, -1 where a short batch ends.

    Captions are kept once as a right-padded matrix; each batch gathers its rows and is cut to
    its own longest caption, so batches of short captions cost little. Feature rows are gathered
    per batch from ``data.features`` (possibly memory-mapped), never copied whole into the graph.
    """
    lengths = np.array([len(row) for row in data.tokens], np.int32)
    padded = np.full((len(data), lengths.max()), PAD, np.int32)
    for index, row in enumerate(data.tokens):
        padded[index, :len(row)] = row
    tokens_t, lengths_t = tf.constant(padded), tf.constant(lengths)
    image_index_t = tf.constant(np.asarray(data.image_index, np.int64))
    features, feature_dim = data.features, data.features.shape[1]

    def feature_rows(image_rows: np.ndarray) -> np.ndarray:
        return np.asarray(features[image_rows], np.float32)

    def gather(indices):
        indices = tf.boolean_mask(indices, indices >= 0)
        rows = tf.gather(tokens_t, indices)[:, :tf.reduce_max(tf.gather(lengths_t, indices))]
        inputs, targets = teacher_forcing_pair(rows)
        image = tf.numpy_function(feature_rows, [tf.gather(image_index_t, indices)], tf.float32,
                                  stateful=False)
        image.set_shape([None, feature_dim])
        return (image, inputs), targets

    return (tf.data.Dataset.from_tensor_slices(batch_rows)
            .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))


def _as_rows(batches: list[np.ndarray], batch_size: int) -> np.ndarray:
    rows = np.full((len(batches), batch_size), -1, np.int64)
    for row, batch in zip(rows, batches):
        row[:len(batch)] = batch
    return rows


def _epoch_batches(seed: int, epoch: int, lengths: np.ndarray, batch_size: int
                   ) -> list[np.ndarray]:
    """The batches of 0-based ``epoch``: a pure function of ``(seed, epoch)``, so a resumed run
    sees exactly the batches an uninterrupted one would.

    Captions are shuffled, sorted by length within windows of ``SORT_WINDOW`` batches (so a
    batch pads little), and the batches are shuffled again so lengths do not arrive in order.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    window = batch_size * SORT_WINDOW
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start:start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


class _Checkpoint:
    """One atomic ``.npz``: model variables, optimizer variables, best weights, run state."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / CHECKPOINT_NAME

    def save(self, model: keras.Model, best_weights: list[np.ndarray], state: _RunState) -> None:
        arrays = {"state": np.array(json.dumps(asdict(state)))}
        arrays.update({f"model_{i}": v.numpy() for i, v in enumerate(model.variables)})
        arrays.update({f"optimizer_{i}": v.numpy()
                       for i, v in enumerate(model.optimizer.variables)})
        arrays.update({f"best_{i}": w for i, w in enumerate(best_weights)})
        with atomic_write(self.path) as handle:
            np.savez(handle, **arrays)

    def load(self, model: keras.Model, fingerprint: dict) -> tuple[list[np.ndarray], _RunState]:
        """Restore ``model`` (and its optimizer) in place; returns best weights and run state."""
        try:
            with np.load(self.path, allow_pickle=False) as archive:
                state = _RunState(**json.loads(str(archive["state"])))
                if state.fingerprint != fingerprint:
                    raise CaptionerError(
                        f"The checkpoint {self.path} was made with other settings or data; "
                        f"train without resuming to start over.")
                model.optimizer.build(model.trainable_variables)
                for prefix, variables in (("model", model.variables),
                                          ("optimizer", model.optimizer.variables)):
                    for i, variable in enumerate(variables):
                        variable.assign(archive[f"{prefix}_{i}"])
                model.get_layer("feature_norm").finalize_state()  # see set_decoder_weights
                best = [archive[f"best_{i}"] for i in range(len(model.weights))]
        except CaptionerError:
            raise
        except (OSError, KeyError, ValueError, TypeError, EOFError, RecursionError,
                zipfile.BadZipFile, zlib.error) as exc:
            raise CaptionerError(f"The checkpoint {self.path} is damaged ({exc}); train "
                                 f"without resuming to start over.") from exc
        return best, state


class _TrainingMonitor(keras.callbacks.Callback):
    """Events, cancel, early stopping with best weights, and the per-epoch checkpoint."""

    def __init__(self, state: _RunState, best_weights: list[np.ndarray], checkpoint: _Checkpoint,
                 config: TrainingConfig, batches: int, val_batches: int, captions: int,
                 on_event: Optional[EventCallback], cancel: Optional[CancelToken]) -> None:
        super().__init__()
        self.state, self.best_weights, self.checkpoint = state, best_weights, checkpoint
        self.config, self.batches, self.val_batches = config, batches, val_batches
        self.captions, self.on_event, self.cancel = captions, on_event, cancel
        self._epoch_start = self._last_epoch_seconds = 0.0
        self._epoch = 0

    def _emit(self, phase: str, **values) -> None:
        if self.on_event is not None:
            self.on_event(TrainingEvent(phase, epochs=self.config.epochs,
                                        **{"batches": self.batches, **values}))

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.cancelled:
            self.model.stop_training = True
            self.cancel.raise_if_cancelled()  # the last completed epoch is already on disk

    def _eta(self, batch: int) -> Optional[float]:
        elapsed = time.perf_counter() - self._epoch_start
        if batch == 0:
            return None
        remaining_epochs = self.config.epochs - self._epoch - 1
        per_epoch = self._last_epoch_seconds or elapsed / batch * self.batches
        return elapsed / batch * (self.batches - batch) + remaining_epochs * per_epoch

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch, self._epoch_start = epoch, time.perf_counter()

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._check_cancel()
        done = batch + 1
        elapsed = time.perf_counter() - self._epoch_start
        captions = min(done * self.config.batch_size, self.captions)
        self._emit("train", epoch=self._epoch + 1, batch=done, loss=float(logs["loss"]),
                   captions_per_s=captions / max(elapsed, 1e-9), eta=self._eta(done),
                   best_val_loss=self._best())

    def on_test_batch_end(self, batch, logs=None) -> None:
        self._check_cancel()
        self._emit("validate", epoch=self._epoch + 1, batch=batch + 1, batches=self.val_batches,
                   message=f"Validating ({batch + 1}/{self.val_batches})",
                   best_val_loss=self._best())

    def _best(self) -> Optional[float]:
        return self.state.best_val_loss if self.state.best_epoch else None

    def on_epoch_end(self, epoch, logs=None) -> None:
        state = self.state
        seconds = time.perf_counter() - self._epoch_start
        self._last_epoch_seconds = seconds
        record = {"epoch": epoch + 1, "seconds": round(seconds, 3),
                  **{key: float(value) for key, value in logs.items()}}
        state.history.append(record)
        state.epochs_done = epoch + 1
        if record["val_loss"] < state.best_val_loss:
            state.best_val_loss, state.best_epoch, state.wait = record["val_loss"], epoch + 1, 0
            self.best_weights[:] = self.model.get_weights()
        else:
            state.wait += 1
            if state.wait >= self.config.patience:
                state.stopped_early = True
                self.model.stop_training = True
        self.checkpoint.save(self.model, self.best_weights, state)
        message = (f"Stopped early: no improvement for {state.wait} epochs."
                   if state.stopped_early else "")
        self._emit("epoch_end", epoch=epoch + 1, batch=self.batches, loss=record["loss"],
                   val_loss=record["val_loss"], best_val_loss=state.best_val_loss,
                   eta=(self.config.epochs - epoch - 1) * seconds if not state.stopped_early
                   else 0.0, message=message)


def _fingerprint(train: CaptionData, val: CaptionData, vocab: Vocabulary,
                 config: TrainingConfig) -> dict:
    """What a checkpoint must match to be resumed (cheap, not a hash of every feature)."""
    settings = config.to_dict()
    settings.pop("epochs")  # resuming may ask for more epochs than the first run did
    return {"config": settings, "vocab_size": vocab.size, "train_captions": len(train),
            "val_captions": len(val), "feature_dim": int(train.features.shape[1]),
            "train_feature_sum": round(sum(float(np.sum(chunk, dtype=np.float64))
                                           for chunk in _feature_chunks(train.features)), 3)}


def _feature_chunks(features: np.ndarray | FeatureRows) -> Iterator[np.ndarray]:
    """``features`` in chunks of ``FEATURE_CHUNK_ROWS`` rows, so that statistics over a
    memory-mapped matrix never load it whole."""
    for start in range(0, len(features), FEATURE_CHUNK_ROWS):
        yield features[start:start + FEATURE_CHUNK_ROWS]


def fit_decoder(train: CaptionData, val: CaptionData, vocab: Vocabulary, config: TrainingConfig,
                *, checkpoint_dir: Path, on_event: Optional[EventCallback] = None,
                cancel: Optional[CancelToken] = None, resume: bool = False,
                strategy: Optional[tf.distribute.Strategy] = None) -> FitResult:
    """Train a decoder; returns it with its best-by-validation-loss weights.

    A checkpoint is written to ``checkpoint_dir`` after every epoch. With ``resume=True`` an
    existing checkpoint (from a cancel or a crash) is continued; without one, training starts
    fresh. Cancelling raises ``Cancelled`` within one batch. Seeds Python/NumPy/TF globally.
    ``strategy`` (``core/devices.py``) decides the devices; the model and its optimizer are
    built under its scope, and ``config.batch_size`` stays the global batch size.
    """
    if len(train) == 0 or len(val) == 0:
        raise DatasetError("Training needs captions in both the training and validation splits.")
    decoder_config = config.decoder_config(vocab.size, int(train.features.shape[1]))
    with (strategy or tf.distribute.get_strategy()).scope():
        best_weights, state = _fit(train, val, vocab, config, decoder_config, checkpoint_dir,
                                   on_event, cancel, resume)
    # The result computes in float32 on one device whatever trained it, like a model loaded
    # from its file.
    model = build_decoder(decoder_config)
    set_decoder_weights(model, best_weights)
    if on_event is not None:
        batches = -(-len(train) // config.batch_size)
        on_event(TrainingEvent("finished", state.epochs_done, config.epochs, batch=batches,
                               batches=batches, val_loss=state.best_val_loss,
                               best_val_loss=state.best_val_loss, eta=0.0,
                               message=f"Best validation loss {state.best_val_loss:.4f} "
                                       f"after epoch {state.best_epoch}."))
    return FitResult(model, decoder_config, state.history, state.epochs_done, state.best_epoch,
                     state.best_val_loss, state.stopped_early)


def _fit(train: CaptionData, val: CaptionData, vocab: Vocabulary, config: TrainingConfig,
         decoder_config: DecoderConfig, checkpoint_dir: Path, on_event: Optional[EventCallback],
         cancel: Optional[CancelToken], resume: bool) -> tuple[list[np.ndarray], _RunState]:
    """The training part of ``fit_decoder``, run inside its strategy's scope: the best
    weights and the run's bookkeeping."""
    keras.utils.set_random_seed(config.seed)
    model = build_decoder(decoder_config, resolve_precision(config.precision, allow_int8=False))
    normalization = model.get_layer("feature_norm")
    if len(train.features) <= FEATURE_CHUNK_ROWS:
        normalization.adapt(train.features[:])  # one array: NumPy's statistics
    else:  # Keras' batched statistics, without loading a memory-mapped matrix whole
        normalization.adapt(_feature_chunks(train.features))
    compile_decoder(model, config.learning_rate, config.clipnorm)
    checkpoint = _Checkpoint(checkpoint_dir)
    fingerprint = _fingerprint(train, val, vocab, config)
    state, best_weights = _RunState(fingerprint), model.get_weights()
    if resume and checkpoint.path.exists():
        best_weights, state = checkpoint.load(model, fingerprint)
        if on_event is not None:
            on_event(TrainingEvent("resumed", state.epochs_done, config.epochs,
                                   best_val_loss=state.best_val_loss,
                                   message=f"Resumed after epoch {state.epochs_done}."))
    if cancel is not None:
        cancel.raise_if_cancelled()

    lengths = np.array([len(row) for row in train.tokens])
    batches = -(-len(train) // config.batch_size)
    by_length = np.argsort([len(row) for row in val.tokens], kind="stable")
    val_rows = _as_rows([by_length[i:i + config.batch_size]
                         for i in range(0, len(val), config.batch_size)], config.batch_size)
    if not state.stopped_early and state.epochs_done < config.epochs:
        train_rows = _as_rows([batch for epoch in range(state.epochs_done, config.epochs)
                               for batch in _epoch_batches(config.seed, epoch, lengths,
                                                           config.batch_size)],
                              config.batch_size)
        monitor = _TrainingMonitor(state, best_weights, checkpoint, config, batches,
                                   len(val_rows), len(train), on_event, cancel)
        model.fit(_batches(train, train_rows),
                  validation_data=_batches(val, val_rows),
                  epochs=config.epochs, initial_epoch=state.epochs_done,
                  steps_per_epoch=batches, callbacks=[monitor], shuffle=False, verbose=0)
    return best_weights, state
