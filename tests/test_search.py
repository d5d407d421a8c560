"""Batched greedy and beam search over a random-init decoder."""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from desktop_captioner.core.decoder import DecoderConfig, StepDecoder, build_decoder
from desktop_captioner.core.search import beam_search, greedy_search
from desktop_captioner.core.vocabulary import END, PAD, START, UNK

VOCAB = 14


@pytest.fixture(scope="module")
def model() -> keras.Model:
    keras.utils.set_random_seed(3)
    return build_decoder(DecoderConfig(vocab_size=VOCAB, embedding_dim=8, hidden_dim=16))


@pytest.fixture(scope="module")
def decoder(model) -> StepDecoder:
    return StepDecoder(model)


@pytest.fixture(scope="module")
def features() -> np.ndarray:
    # Scaled up so the random decoder produces varied captions of varied lengths.
    return np.random.default_rng(0).normal(0, 3, size=(150, 512)).astype(np.float32)


def _teacher_forced_log_prob(model, feature, words):
    tokens = np.array([[START, *words]], np.int32)
    log_probs = tf.nn.log_softmax(model([feature[None], tokens], training=False)).numpy()[0]
    return float(sum(log_probs[i, token] for i, token in enumerate([*words, END])))


def test_greedy_equals_beam_width_one(decoder, features):
    greedy = greedy_search(decoder, features, max_length=10, batch_size=32)
    beam = beam_search(decoder, features, width=1, max_length=10, batch_size=32)
    assert [g.tokens for g in greedy] == [b.tokens for b in beam]
    np.testing.assert_allclose([g.log_prob for g in greedy], [b.log_prob for b in beam],
                               atol=1e-5)
    assert len({len(g.tokens) for g in greedy}) > 3  # the inputs really are varied


@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("width", [2, 3, 5])
def test_beam_never_scores_below_greedy(decoder, features, width, alpha):
    greedy = greedy_search(decoder, features, max_length=10, alpha=alpha)
    beam = beam_search(decoder, features, width=width, max_length=10, alpha=alpha)
    scores = np.array([[b.score, g.score] for b, g in zip(beam, greedy)])
    assert np.all(scores[:, 0] >= scores[:, 1])
    assert np.any(scores[:, 0] > scores[:, 1] + 1e-6)  # beam search does find better captions
    if alpha == 0.0:  # the score is then the plain total log-probability
        assert all(b.log_prob >= g.log_prob for b, g in zip(beam, greedy))


def test_reported_log_prob_and_score_match_the_model(model, decoder, features):
    for index, hypothesis in enumerate(beam_search(decoder, features[:8], width=3,
                                                   max_length=10, alpha=0.7)):
        expected = _teacher_forced_log_prob(model, features[index], hypothesis.tokens)
        assert hypothesis.log_prob == pytest.approx(expected, abs=1e-4)
        length = len(hypothesis.tokens) + 1
        assert hypothesis.score == pytest.approx(hypothesis.log_prob / length ** 0.7)


@pytest.fixture(scope="module")
def biasable(model):
    """A copy of ``model`` and its step decoder whose logit biases the tests may change."""
    copy = build_decoder(DecoderConfig(vocab_size=VOCAB, embedding_dim=8, hidden_dim=16))
    copy.set_weights(model.get_weights())
    return copy, StepDecoder(copy)


@contextlib.contextmanager
def _biased(biasable, token, bias):
    """The step decoder with ``token`` strongly favoured (bias > 0) or avoided (bias < 0)."""
    copy, decoder = biasable
    logits_bias = copy.get_layer("logits").bias
    original = logits_bias.numpy()
    logits_bias.assign(tf.tensor_scatter_nd_update(original, [[token]], [bias]))
    try:
        yield decoder
    finally:
        logits_bias.assign(original)


@pytest.mark.parametrize("search", [greedy_search, beam_search])
def test_unk_pad_start_never_emitted_even_when_most_likely(biasable, features, search):
    for token in (UNK, PAD, START):
        with _biased(biasable, token, 50.0) as decoder:
            hypotheses = search(decoder, features[:20], max_length=6)
        emitted = {t for h in hypotheses for t in h.tokens}
        assert emitted and not emitted & {UNK, PAD, START, END}


@pytest.mark.parametrize("search", [greedy_search, beam_search])
def test_max_length_respected_when_end_is_unlikely(biasable, features, search):
    with _biased(biasable, END, -50.0) as decoder:
        hypotheses = search(decoder, features[:20], max_length=5)
    assert all(len(h.tokens) == 5 for h in hypotheses)
    assert all(h.log_prob < -40 for h in hypotheses)  # the forced END is counted


@pytest.mark.parametrize("search", [greedy_search, beam_search])
def test_no_empty_caption_even_when_end_is_most_likely(biasable, features, search):
    with _biased(biasable, END, 50.0) as decoder:
        hypotheses = search(decoder, features[:5], max_length=4)
    assert all(len(h.tokens) == 1 for h in hypotheses)


def test_no_retracing_across_batch_sizes(decoder, features):
    for batch_size in (1, 7, 64):
        greedy_search(decoder, features[:20], max_length=4, batch_size=batch_size)
        beam_search(decoder, features[:20], max_length=4, batch_size=batch_size)
    assert decoder.step.experimental_get_tracing_count() == 1
    assert decoder.init_state.experimental_get_tracing_count() == 1


def _closest_step(model, feature, words, alpha: float, max_length: int) -> float:
    """The smallest gap between the two likeliest allowed words along ``words`` (teacher
    forced), over the caption's length normalisation: greedy's margin computed independently.
    A caption of ``max_length`` words had no choice at its END."""
    tokens = np.array([[START, *words]], np.int32)
    log_probs = tf.nn.log_softmax(model([feature[None], tokens], training=False)).numpy()[0]
    gaps = []
    for step, row in enumerate(log_probs[:max_length]):
        barred = [PAD, START, UNK] + ([END] if step == 0 else [])
        allowed = np.sort(np.delete(row, barred))[::-1]
        gaps.append(allowed[0] - allowed[1])
    return min(gaps) / (len(words) + 1) ** alpha


def test_greedy_margin_is_its_closest_step(model, decoder, features):
    greedy = greedy_search(decoder, features[:12], max_length=10, alpha=0.7)
    for feature, hypothesis in zip(features, greedy):
        assert hypothesis.margin == pytest.approx(
            _closest_step(model, feature, hypothesis.tokens, 0.7, max_length=10), abs=1e-4)
    beam_one = beam_search(decoder, features[:12], width=1, max_length=10, alpha=0.7)
    assert [b.margin for b in beam_one] == [g.margin for g in greedy]


@pytest.mark.parametrize("width", [2, 3, 5])
def test_beam_margin_is_the_lead_over_every_other_caption_it_found(decoder, features, width):
    """Greedy's caption is one of the candidates, so where it differs the lead is at most the
    score difference; and a caption perturbed by less than half its margin never changes."""
    beam = beam_search(decoder, features, width=width, max_length=10)
    greedy = greedy_search(decoder, features, max_length=10)
    margins = np.array([b.margin for b in beam])
    assert np.all(margins >= 0) and np.isfinite(margins).mean() > 0.9
    differs = [(b, g) for b, g in zip(beam, greedy) if b.tokens != g.tokens]
    assert differs, "beam and greedy always agree: the comparison would prove nothing"
    assert all(b.margin <= b.score - g.score + 1e-9 for b, g in differs)
    assert np.median(margins) < 0.5  # a lead, not a constant
