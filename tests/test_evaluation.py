"""BLEU-1..4 against hand-computed values and nltk, and evaluate_decoder end to end."""

from __future__ import annotations

import math
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from nltk.translate.bleu_score import corpus_bleu

from desktop_captioner.core.evaluation import (
    bleu_scores,
    caption_bleu,
    dataset_references,
    evaluate_decoder,
)

CAT = "the cat is on the mat".split()


def test_perfect_match_scores_one():
    assert bleu_scores([[CAT]], [CAT]) == pytest.approx(
        {"bleu1": 1.0, "bleu2": 1.0, "bleu3": 1.0, "bleu4": 1.0})


def test_caption_lines_are_scored_against_the_datasets_tokenized_references():
    dataset = SimpleNamespace(captions={"a.jpg": ["The cat is on the mat.", "A cat sits."],
                                        "b.jpg": ["A dog runs!"]})
    references = dataset_references(dataset, ["b.jpg", "a.jpg"])
    assert references == [[["a", "dog", "runs"]], [CAT, ["a", "cat", "sits"]]]
    scores = caption_bleu(["a dog runs", "the cat is on the mat"], references)
    assert scores == bleu_scores(references, [["a", "dog", "runs"], CAT])
    assert scores["bleu1"] == pytest.approx(1.0)


def test_clipped_precisions_by_hand():
    hypothesis = "the cat the cat on the mat".split()
    scores = bleu_scores([[CAT]], [hypothesis])
    # unigrams: the 2 (clipped from 3) + cat 1 (from 2) + on + mat = 5 of 7
    assert scores["bleu1"] == pytest.approx(5 / 7)
    # bigrams: the-cat, on-the, the-mat match = 3 of 6
    assert scores["bleu2"] == pytest.approx(math.sqrt(5 / 7 * 3 / 6))


def test_brevity_penalty_and_closest_reference_length():
    scores = bleu_scores([[CAT, "a cat".split()]], [["the", "cat"]])
    assert scores["bleu1"] == pytest.approx(1.0)  # the 2-word reference is closest: no penalty
    scores = bleu_scores([[CAT]], [["the", "cat"]])
    assert scores["bleu1"] == pytest.approx(math.exp(1 - 6 / 2))


def test_corpus_level_pooling_and_uniform_weights_match_nltk():
    references = [[CAT, "there is a cat on the mat".split()],
                  [["a", "dog", "runs", "in", "the", "park"]]]
    hypotheses = ["the cat sat on the mat".split(), "a dog runs in a park".split()]
    scores = bleu_scores(references, hypotheses)
    assert scores["bleu3"] == pytest.approx(
        corpus_bleu(references, hypotheses, weights=(1 / 3, 1 / 3, 1 / 3)))
    assert scores["bleu4"] == pytest.approx(corpus_bleu(references, hypotheses))


def test_counts_are_pooled_over_the_corpus_not_averaged_per_sentence():
    references = [[CAT], ["a dog runs in the park".split()]]
    scores = bleu_scores(references, [CAT, ["a", "cat"]])
    # 7 of 8 unigrams match; 8 hypothesis words against 12 reference words.
    assert scores["bleu1"] == pytest.approx(7 / 8 * math.exp(1 - 12 / 8))


def test_no_four_gram_match_is_zero_without_smoothing():
    # nltk returns a vanishing positive number rather than an exact 0.
    assert bleu_scores([[CAT]], ["on the cat mat".split()])["bleu4"] == pytest.approx(0, abs=1e-100)


def test_evaluate_decoder_scores_beam_captions_against_tokenized_references():
    from desktop_captioner.core.decoder import DecoderConfig, StepDecoder, build_decoder
    from desktop_captioner.core.search import beam_search
    from desktop_captioner.core.vocabulary import Vocabulary

    vocab = Vocabulary.build(["a dog runs on the grass", "a cat sits"], min_count=1, max_length=6)
    keras.utils.set_random_seed(0)
    decoder = StepDecoder(build_decoder(DecoderConfig(vocab_size=vocab.size, embedding_dim=8,
                                                      hidden_dim=16)))
    features = np.random.default_rng(0).normal(0, 3, size=(6, 512)).astype(np.float32)
    hypotheses = [vocab.decode(h.tokens) for h in beam_search(decoder, features, width=2,
                                                              max_length=6)]
    # References as raw text, in capitals and with punctuation: tokenized like training text.
    references = [[" ".join(h).upper() + " .", "A dog, running!"] for h in hypotheses]
    scores = evaluate_decoder(decoder, features, references, vocab, beam_width=2)
    assert scores["images"] == 6
    assert scores["bleu1"] == pytest.approx(1.0) and scores["bleu4"] > 0
