"""fit_decoder: batching, events, cancel + resume == uninterrupted, early stopping, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from desktop_captioner.core import training
from desktop_captioner.core.decoder import compile_decoder
from desktop_captioner.core.errors import Cancelled, CaptionerError, DatasetError
from desktop_captioner.core.feature_rows import FeatureMap, FeatureRows
from desktop_captioner.core.feature_store import FeatureStore
from desktop_captioner.core.progress import CancelToken
from desktop_captioner.core.training import (
    CHECKPOINT_NAME,
    CaptionData,
    TrainingConfig,
    _as_rows,
    _batches,
    _epoch_batches,
    encode_captions,
    fit_decoder,
)
from desktop_captioner.core.vocabulary import END, PAD, START, Vocabulary

WORDS = "a dog cat man woman child runs jumps sits on in the grass water snow red".split()
SMALL = dict(batch_size=8, embedding_dim=16, hidden_dim=32, min_count=1)


def _split(rng, names, captions_per_image=3):
    return {name: [" ".join(rng.choice(WORDS, size=rng.integers(2, 9)))
                   for _ in range(captions_per_image)] for name in names}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    names = [f"img{i}.jpg" for i in range(24)]
    captions = _split(rng, names)
    features = {name: rng.normal(size=512).astype(np.float32) for name in names}
    vocab = Vocabulary.build([c for name in names[:18] for c in captions[name]], min_count=1)
    return (encode_captions(vocab, captions, names[:18], features),
            encode_captions(vocab, captions, names[18:], features), vocab)


def test_encode_captions_points_each_caption_at_its_image(data):
    train, _, vocab = data
    assert train.features.shape == (18, 512) and len(train) == 54
    assert train.image_index.tolist() == [i for i in range(18) for _ in range(3)]
    assert all(row[0] == START and row[-1] == END for row in train.tokens)
    with pytest.raises(DatasetError, match="missing.jpg"):
        encode_captions(vocab, {"missing.jpg": ["a dog"]}, ["missing.jpg"], {})


def test_epoch_batches_reshuffle_per_epoch_and_cover_every_caption_once():
    lengths = np.random.default_rng(1).integers(3, 30, size=1000)
    first, again, second = (_epoch_batches(7, epoch, lengths, 16) for epoch in (0, 0, 1))
    assert np.array_equal(np.sort(np.concatenate(first)), np.arange(1000))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    # Sorting within windows keeps a batch's lengths close, so padding stays small.
    spread = np.mean([np.ptp(lengths[batch]) for batch in first])
    assert spread < 3


def test_batches_are_cut_to_their_longest_caption(data):
    train, _, _ = data
    rows = _as_rows([np.array([0, 1, 2]), np.array([5])], 4)
    shapes = [(features.shape, inputs.shape, targets.shape)
              for (features, inputs), targets in _batches(train, rows)]
    for (features_shape, inputs_shape, targets_shape), indices in zip(shapes, ([0, 1, 2], [5])):
        longest = max(len(train.tokens[i]) for i in indices)
        assert features_shape == (len(indices), 512)
        assert inputs_shape == targets_shape == (len(indices), longest - 1)


def _weights_equal(a, b, atol=1e-5):
    return all(np.allclose(x, y, atol=atol) for x, y in zip(a.get_weights(), b.get_weights()))


def test_cancel_then_resume_equals_an_uninterrupted_run(data, tmp_path):
    train, val, vocab = data
    config = TrainingConfig(epochs=4, patience=10, dropout=0.3, **SMALL)
    events = []
    straight = fit_decoder(train, val, vocab, config, checkpoint_dir=tmp_path / "a",
                           on_event=events.append)

    cancel, seen = CancelToken(), []

    def cancel_in_epoch_three(event):
        seen.append(event)
        if event.phase == "train" and event.epoch == 3 and event.batch == 2:
            cancel.cancel()

    with pytest.raises(Cancelled):
        fit_decoder(train, val, vocab, config, checkpoint_dir=tmp_path / "b",
                    on_event=cancel_in_epoch_three, cancel=cancel)
    assert seen[-1].phase == "train" and (seen[-1].epoch, seen[-1].batch) == (3, 2)
    resumed_events = []
    resumed = fit_decoder(train, val, vocab, config, checkpoint_dir=tmp_path / "b",
                          on_event=resumed_events.append, resume=True)
    assert resumed_events[0].phase == "resumed" and resumed_events[0].epoch == 2
    assert [e.epoch for e in resumed_events if e.phase == "epoch_end"] == [3, 4]
    assert [h["val_loss"] for h in resumed.history] == pytest.approx(
        [h["val_loss"] for h in straight.history], abs=1e-5)
    assert _weights_equal(straight.model, resumed.model)

    # The uninterrupted run's events: 1-based epochs, every batch, then one "finished".
    train_events = [e for e in events if e.phase == "train"]
    assert len(train_events) == 4 * 7 and train_events[0].batches == 7
    assert [e.epoch for e in events if e.phase == "epoch_end"] == [1, 2, 3, 4]
    assert all(e.eta is not None and e.captions_per_s > 0 for e in train_events)
    assert any(e.phase == "validate" for e in events) and events[-1].phase == "finished"


def test_early_stopping_restores_the_best_weights(tmp_path):
    rng = np.random.default_rng(2)
    names = [f"img{i}" for i in range(16)]
    features = {name: rng.normal(size=512).astype(np.float32) for name in names}
    train_captions, val_captions = _split(rng, names, 2), _split(rng, names, 1)
    vocab = Vocabulary.build([c for cs in train_captions.values() for c in cs], min_count=1)
    train = encode_captions(vocab, train_captions, names, features)
    val = encode_captions(vocab, val_captions, names, features)  # 16 captions: one batch
    config = TrainingConfig(epochs=30, patience=2, dropout=0.0, learning_rate=0.02,
                            precision="float32", **{**SMALL, "batch_size": 16})
    result = fit_decoder(train, val, vocab, config, checkpoint_dir=tmp_path)
    assert result.stopped_early and result.epochs_run < 30
    assert result.best_epoch == result.epochs_run - 2
    assert result.best_val_loss == min(h["val_loss"] for h in result.history)
    assert result.history[-1]["val_loss"] > result.best_val_loss
    compile_decoder(result.model)
    evaluated = result.model.evaluate(*_whole(val), verbose=0, return_dict=True)
    assert evaluated["loss"] == pytest.approx(result.best_val_loss, rel=1e-4)


def _whole(data):
    """All of ``data`` as one right-padded teacher-forcing batch."""
    longest = max(len(row) for row in data.tokens)
    rows = np.array([row + [PAD] * (longest - len(row)) for row in data.tokens], np.int32)
    targets = rows[:, 1:]
    inputs = np.where(targets == PAD, PAD, rows[:, :-1])
    return [data.features[data.image_index], inputs], targets


def test_resume_refuses_a_checkpoint_made_with_other_settings(data, tmp_path):
    train, val, vocab = data
    fit_decoder(train, val, vocab, TrainingConfig(epochs=1, **SMALL), checkpoint_dir=tmp_path)
    saved = json.loads(str(np.load(tmp_path / CHECKPOINT_NAME)["state"]))
    assert saved["epochs_done"] == 1
    with pytest.raises(CaptionerError, match="other settings"):
        fit_decoder(train, val, vocab, TrainingConfig(epochs=2, seed=5, **SMALL),
                    checkpoint_dir=tmp_path, resume=True)
    # More epochs with the same settings is a continuation, not a conflict.
    longer = fit_decoder(train, val, vocab, TrainingConfig(epochs=2, **SMALL),
                         checkpoint_dir=tmp_path, resume=True)
    assert [h["epoch"] for h in longer.history] == [1, 2]


def test_config_round_trip_and_empty_split_is_an_error(data, tmp_path):
    config = TrainingConfig(epochs=3, hidden_dim=64)
    assert TrainingConfig.from_dict({**json.loads(json.dumps(config.to_dict())), "x": 1}) == config
    train, _, vocab = data
    empty = encode_captions(vocab, {}, [], {})
    with pytest.raises(DatasetError):
        fit_decoder(train, empty, vocab, config, checkpoint_dir=tmp_path)


def _memory_mapped(data, folder):
    """``data`` with its features moved into a feature store (two shards), read back mapped."""
    store = FeatureStore.open(folder, 512)
    keys = [f"{row:032d}" for row in range(len(data.features))]
    store.add(keys[:5], data.features[:5])
    store.add(keys[5:], data.features[5:])
    return CaptionData(store.rows(keys), data.image_index, data.tokens)


def test_encode_captions_keeps_cached_features_memory_mapped(data, tmp_path):
    train, _, vocab = data
    mapped = _memory_mapped(train, tmp_path)
    names = [f"img{i}.jpg" for i in range(18)]
    cache = FeatureMap(mapped.features, {name: row for row, name in enumerate(names)})
    encoded = encode_captions(vocab, {name: ["a dog"] for name in names}, names[::-1], cache)
    assert isinstance(encoded.features, FeatureRows)
    assert all(isinstance(block, np.memmap) for block in encoded.features.blocks)
    np.testing.assert_array_equal(encoded.features[:], train.features[::-1])


def test_training_from_memory_mapped_features_equals_training_from_arrays(data, tmp_path,
                                                                          monkeypatch):
    train, val, vocab = data
    mapped_train = _memory_mapped(train, tmp_path / "train")
    mapped_val = _memory_mapped(val, tmp_path / "val")
    config = TrainingConfig(epochs=2, **SMALL)
    arrays = fit_decoder(train, val, vocab, config, checkpoint_dir=tmp_path / "a")
    mapped = fit_decoder(mapped_train, mapped_val, vocab, config, checkpoint_dir=tmp_path / "b")
    assert [h["val_loss"] for h in mapped.history] == [h["val_loss"] for h in arrays.history]
    assert all(np.array_equal(a, b) for a, b in zip(arrays.model.get_weights(),
                                                    mapped.model.get_weights()))
    # Features longer than one chunk are normalised from chunks: the same statistics, in float32.
    monkeypatch.setattr(training, "FEATURE_CHUNK_ROWS", 4)
    chunked = fit_decoder(mapped_train, mapped_val, vocab, config, checkpoint_dir=tmp_path / "c")
    mean, variance = (chunked.model.get_layer("feature_norm").get_weights()[i] for i in (0, 1))
    np.testing.assert_allclose(mean, train.features.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(variance, train.features.var(axis=0), rtol=1e-4, atol=1e-5)
