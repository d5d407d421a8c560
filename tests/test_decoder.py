"""The Keras decoder: rebuild + weights round trip, padding mask, step inference, overfitting."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from desktop_captioner.core.decoder import (
    DecoderConfig,
    StepDecoder,
    build_decoder,
    compile_decoder,
    teacher_forcing_pair,
)
from desktop_captioner.core.search import greedy_search
from desktop_captioner.core.training import CaptionData, TrainingConfig, fit_decoder
from desktop_captioner.core.vocabulary import END, PAD, START, Vocabulary

CONFIG = DecoderConfig(vocab_size=20, embedding_dim=8, hidden_dim=16, dropout=0.3)


@pytest.fixture()
def model() -> keras.Model:
    keras.utils.set_random_seed(1)
    model = build_decoder(CONFIG)
    compile_decoder(model)
    return model


def _batch(rng, count=4, length=7):
    features = rng.normal(size=(count, 512)).astype(np.float32)
    rows = np.zeros((count, length + 2), np.int32)
    for i in range(count):
        words = rng.integers(4, CONFIG.vocab_size, size=rng.integers(1, length + 1))
        rows[i, :len(words) + 2] = [START, *words, END]
    return features, rows


def test_rebuilt_from_config_and_weights_file(model, tmp_path):
    features, rows = _batch(np.random.default_rng(0))
    inputs = teacher_forcing_pair(rows)[0].numpy()
    path = tmp_path / "decoder.weights.h5"
    model.save_weights(path)
    again = build_decoder(DecoderConfig.from_dict(json.loads(json.dumps(CONFIG.to_dict()))))
    again.load_weights(path)
    np.testing.assert_array_equal(model([features, inputs]), again([features, inputs]))
    assert {layer.__class__.__name__ for layer in model.layers} <= {
        "InputLayer", "Normalization", "Dense", "Dropout", "Embedding", "LSTM"}


def test_bfloat16_build_shares_the_float32_weights_file(model, tmp_path):
    features, rows = _batch(np.random.default_rng(3))
    inputs = teacher_forcing_pair(rows)[0].numpy()
    model.save_weights(tmp_path / "decoder.weights.h5")
    fast = build_decoder(CONFIG, precision="bfloat16")
    fast.load_weights(tmp_path / "decoder.weights.h5")
    assert fast.get_layer("lstm").compute_dtype == "bfloat16"
    np.testing.assert_allclose(np.asarray(fast([features, inputs]), np.float32),
                               model([features, inputs]), atol=0.1)


def test_teacher_forcing_pair_shifts_and_blanks_end():
    rows = tf.constant([[START, 5, 6, END], [START, 7, END, PAD]])
    inputs, targets = teacher_forcing_pair(rows)
    assert inputs.numpy().tolist() == [[START, 5, 6], [START, 7, PAD]]
    assert targets.numpy().tolist() == [[5, 6, END], [7, END, PAD]]


def test_padding_is_masked_in_loss_and_accuracy(model):
    features, rows = _batch(np.random.default_rng(1))
    inputs, targets = (t.numpy() for t in teacher_forcing_pair(rows))
    padded_inputs, padded_targets = (np.pad(t, ((0, 0), (0, 9))) for t in (inputs, targets))
    tight = model.evaluate([features, inputs], targets, verbose=0, return_dict=True)
    loose = model.evaluate([features, padded_inputs], padded_targets, verbose=0, return_dict=True)
    assert loose["loss"] == pytest.approx(tight["loss"], rel=1e-6)
    assert loose["accuracy"] == pytest.approx(tight["accuracy"], rel=1e-6)
    # ... and the loss really averages over real tokens: the same as the unpadded per-token mean.
    logits = model([features, inputs], training=False)
    per_token = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    assert tight["loss"] == pytest.approx(float(tf.reduce_mean(per_token[targets != PAD])),
                                          rel=1e-5)


def test_step_decoder_matches_the_teacher_forced_model(model):
    features, rows = _batch(np.random.default_rng(2), count=5)
    inputs, _ = teacher_forcing_pair(rows)
    inputs = inputs.numpy()
    expected = tf.nn.log_softmax(model([features, inputs], training=False)).numpy()
    decoder = StepDecoder(model)
    state = decoder.init_state(features)
    for position in range(inputs.shape[1]):
        log_probs, state = decoder.step(inputs[:, position], state)
        real = inputs[:, position] != PAD
        np.testing.assert_allclose(log_probs.numpy()[real], expected[real, position], atol=1e-5)


def test_decoder_overfits_twenty_captions(tmp_path):
    rng = np.random.default_rng(0)
    words = "a dog cat man woman child runs jumps sits on in the grass water snow red blue".split()
    captions = sorted({" ".join(rng.choice(words, size=rng.integers(3, 8))) for _ in range(20)})
    vocab = Vocabulary.build(captions, min_count=1)
    data = CaptionData(rng.normal(size=(len(captions), 512)).astype(np.float32),
                       np.arange(len(captions)), [vocab.encode(c) for c in captions])
    config = TrainingConfig(epochs=40, batch_size=len(captions), embedding_dim=32, hidden_dim=64,
                            dropout=0.0, learning_rate=2e-2, patience=40, min_count=1)
    result = fit_decoder(data, data, vocab, config, checkpoint_dir=tmp_path)
    decoded = [" ".join(vocab.decode(h.tokens))
               for h in greedy_search(StepDecoder(result.model), data.features)]
    assert decoded == captions
