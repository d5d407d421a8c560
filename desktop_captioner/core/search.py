"""Greedy and beam search over ``StepDecoder``, batched across images.

Both searches emit at least one and at most ``max_length`` words and then force END, so every
hypothesis ends the way training captions do (the vocabulary truncates those to ``max_length``
words + END). PAD, START and UNK are never emitted: their log-probabilities are set to -inf
before choosing. The
reported log-probability is the model's own (not renormalised over the allowed tokens) and
counts END.

Scoring: ``score = log_prob / length ** alpha`` with ``length`` = words + 1 (the END). Plain
log-probability favours short captions; alpha = 0.7 is the usual GNMT-style compromise between
that and full per-token averaging (alpha = 1), which tends to favour rambling captions. alpha = 0
gives plain log-probability.

Beam search guarantees it never does worse than greedy under that score: greedy's hypothesis
is added to the final candidates (a beam can otherwise prune greedy's prefix). With width 1 the
beam algorithm reduces exactly to greedy: each beam only expands its top-``width`` words, so a
single beam takes the argmax word each step and stops when that word is END.

Every hypothesis also carries a ``margin``: how far ahead of the nearest different caption the
search saw it was, in score units. A small margin means a slightly different image vector (the
other number format's, say) could have tipped the choice; the Captioner re-checks those.
Beam search measures it against the best other finished caption; greedy against its closest
step (the smallest gap between the two likeliest words, over the same length normalisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from desktop_captioner.core.decoder import StepDecoder
from desktop_captioner.core.text import clean_caption
from desktop_captioner.core.tf_runtime import tf
from desktop_captioner.core.vocabulary import END, PAD, START, UNK, Vocabulary

DEFAULT_ALPHA = 0.7
DEFAULT_WIDTH = 3
DEFAULT_MAX_LENGTH = 32
DEFAULT_BATCH_SIZE = 64
NEVER_EMITTED = (PAD, START, UNK)


@dataclass(frozen=True)
class Hypothesis:
    """One caption: word ids (no START/END), total log-probability and normalised score."""

    tokens: list[int]
    log_prob: float
    score: float
    margin: float = math.inf


def normalised_score(log_prob: float, length: int, alpha: float) -> float:
    return log_prob / (length ** alpha)


def _allowed_log_probs(log_probs: tf.Tensor, step: int, max_length: int) -> np.ndarray:
    """Model log-probs with never-emitted tokens at -inf, END barred from the first step (an
    empty caption is useless) and the only choice on the last one."""
    allowed = log_probs.numpy().astype(np.float64)
    if step == 0:
        allowed[:, [*NEVER_EMITTED, END]] = -np.inf
    elif step == max_length:
        end = allowed[:, END].copy()
        allowed[:] = -np.inf
        allowed[:, END] = end
    else:
        allowed[:, NEVER_EMITTED] = -np.inf
    return allowed


def _chunks(features: np.ndarray, batch_size: int):
    features = np.asarray(features, dtype=np.float32)
    for start in range(0, len(features), batch_size):
        yield features[start:start + batch_size]


def greedy_search(decoder: StepDecoder, features: np.ndarray,
                  max_length: int = DEFAULT_MAX_LENGTH, alpha: float = DEFAULT_ALPHA,
                  batch_size: int = DEFAULT_BATCH_SIZE) -> list[Hypothesis]:
    """The most likely next word at each step, for ``batch_size`` images at a time."""
    results: list[Hypothesis] = []
    for chunk in _chunks(features, batch_size):
        results += _greedy_chunk(decoder, chunk, max_length, alpha)
    return results


def _greedy_chunk(decoder: StepDecoder, features: np.ndarray, max_length: int,
                  alpha: float) -> list[Hypothesis]:
    count = len(features)
    state = decoder.init_state(features)
    previous = np.full(count, START, dtype=np.int32)
    log_prob = np.zeros(count)
    closest = np.full(count, np.inf)  # smallest gap between the two likeliest words so far
    done = np.zeros(count, dtype=bool)
    words: list[list[int]] = [[] for _ in range(count)]
    for step in range(max_length + 1):
        log_probs, state = decoder.step(previous, state)
        allowed = _allowed_log_probs(log_probs, step, max_length)
        chosen = allowed.argmax(axis=1)
        if step < max_length:  # the last step has END as its only choice
            top_two = -np.partition(-allowed, 1, axis=1)[:, :2]
            closest = np.where(done, closest, np.minimum(closest, top_two[:, 0] - top_two[:, 1]))
        for row in np.flatnonzero(~done):
            log_prob[row] += allowed[row, chosen[row]]
            if chosen[row] == END:
                done[row] = True
            else:
                words[row].append(int(chosen[row]))
        if done.all():
            break
        previous = np.where(done, PAD, chosen).astype(np.int32)
    return [Hypothesis(words[row], float(log_prob[row]),
                       normalised_score(float(log_prob[row]), len(words[row]) + 1, alpha),
                       float(closest[row]) / (len(words[row]) + 1) ** alpha)
            for row in range(count)]


def beam_search(decoder: StepDecoder, features: np.ndarray, width: int = DEFAULT_WIDTH,
                max_length: int = DEFAULT_MAX_LENGTH, alpha: float = DEFAULT_ALPHA,
                batch_size: int = DEFAULT_BATCH_SIZE) -> list[Hypothesis]:
    """Best-scoring caption per image; ``batch_size`` images × ``width`` beams per step."""
    if width < 1 or max_length < 1:
        raise ValueError(f"beam width and max length must be at least 1, got {width}, {max_length}")
    results: list[Hypothesis] = []
    for chunk in _chunks(features, batch_size):
        finished = _beam_chunk(decoder, chunk, width, max_length, alpha)
        greedy = _greedy_chunk(decoder, chunk, max_length, alpha)
        if width == 1:  # one finished caption, greedy's own, whose closest step greedy knows
            results += [replace(hyps[0], margin=g.margin) for hyps, g in zip(finished, greedy)]
        else:
            results += [_best_with_margin([*hyps, g]) for hyps, g in zip(finished, greedy)]
    return results


def _best_with_margin(candidates: list[Hypothesis]) -> Hypothesis:
    """The best-scoring candidate, its margin measured to the best one with other words."""
    best = max(candidates, key=lambda hyp: hyp.score)
    rivals = [hyp.score for hyp in candidates if hyp.tokens != best.tokens]
    return replace(best, margin=best.score - max(rivals) if rivals else math.inf)


def _beam_chunk(decoder: StepDecoder, features: np.ndarray, width: int, max_length: int,
                alpha: float) -> list[list[Hypothesis]]:
    """im2txt-style beam: each live beam proposes its top ``width`` words; END proposals become
    finished hypotheses, the best ``width`` other proposals per image become the next beams.
    Returns every finished hypothesis of each image."""
    count = len(features)
    h, c = decoder.init_state(features)
    state = (tf.repeat(h, width, axis=0), tf.repeat(c, width, axis=0))
    beam_log_prob = np.full((count, width), -np.inf)
    beam_log_prob[:, 0] = 0.0  # one live beam per image to start with
    history = np.zeros((count, width, 0), dtype=np.int32)
    previous = np.full(count * width, START, dtype=np.int32)
    finished: list[list[Hypothesis]] = [[] for _ in range(count)]
    # Any continuation of a beam with log-prob s scores at most s / longest ** alpha (s < 0).
    longest = (max_length + 1) ** alpha
    for step in range(max_length + 1):
        log_probs, state = decoder.step(previous, state)
        allowed = _allowed_log_probs(log_probs, step, max_length).reshape(count, width, -1)
        top_words = np.argpartition(-allowed, width - 1, axis=2)[:, :, :width]
        candidate = beam_log_prob[:, :, None] + np.take_along_axis(allowed, top_words, axis=2)
        for image, beam, slot in zip(*np.nonzero((top_words == END) & np.isfinite(candidate))):
            total = float(candidate[image, beam, slot])
            finished[image].append(Hypothesis(
                history[image, beam].tolist(), total, normalised_score(total, step + 1, alpha)))
        candidate[top_words == END] = -np.inf
        flat = candidate.reshape(count, width * width)
        picked = np.argsort(-flat, axis=1, kind="stable")[:, :width]
        beam_log_prob = np.take_along_axis(flat, picked, axis=1)
        parent = picked // width
        words = top_words.reshape(count, width * width)
        new_words = np.take_along_axis(words, picked, axis=1).astype(np.int32)
        history = np.concatenate(
            [np.take_along_axis(history, parent[:, :, None], axis=1), new_words[:, :, None]],
            axis=2)
        for image in range(count):
            if finished[image]:
                best = max(hyp.score for hyp in finished[image])
                if best >= beam_log_prob[image].max() / longest:
                    beam_log_prob[image] = -np.inf
        if not np.isfinite(beam_log_prob).any():
            break
        rows = (np.arange(count)[:, None] * width + parent).reshape(-1)
        state = (tf.gather(state[0], rows), tf.gather(state[1], rows))
        previous = np.where(np.isfinite(beam_log_prob), new_words, PAD).reshape(-1)
        previous = previous.astype(np.int32)
    return finished


def captions_from_features(steps: StepDecoder, vocab: Vocabulary, features: np.ndarray,
                           beam_width: int = 3) -> list[tuple[str, float]]:
    """(caption text, normalised log-probability score) for each row of ``features``."""
    return [(caption_text(vocab, h), h.score)
            for h in search_captions(steps, vocab, features, beam_width)]


def search_captions(steps: StepDecoder, vocab: Vocabulary, features: np.ndarray,
                    beam_width: int = 3) -> list[Hypothesis]:
    """Beam search over all of ``features`` at once, captions capped at the vocabulary's length."""
    if len(features) == 0:
        return []
    return beam_search(steps, np.asarray(features, np.float32), width=beam_width,
                       max_length=vocab.max_length, batch_size=len(features))


def caption_text(vocab: Vocabulary, hypothesis: Hypothesis) -> str:
    """The hypothesis's words as one clean caption line."""
    return clean_caption(" ".join(vocab.decode(hypothesis.tokens)))
