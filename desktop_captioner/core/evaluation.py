"""BLEU-1..4 with nltk's ``corpus_bleu``, the way published Flickr8k numbers are computed.

Uniform n-gram weights and no smoothing, so scores compare with the literature. References are
tokenized by the vocabulary's tokenizer (raw words, not UNK-mapped), hypotheses are the decoded
words. TensorFlow is only imported when a decoder is actually evaluated.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Sequence

import numpy as np
from nltk.translate.bleu_score import corpus_bleu

from desktop_captioner.core.vocabulary import Vocabulary, tokenize

if TYPE_CHECKING:
    from desktop_captioner.core.dataset import Dataset
    from desktop_captioner.core.decoder import StepDecoder

BLEU_WEIGHTS = {
    "bleu1": (1.0, 0.0, 0.0, 0.0),
    "bleu2": (0.5, 0.5, 0.0, 0.0),
    "bleu3": (1 / 3, 1 / 3, 1 / 3, 0.0),
    "bleu4": (0.25, 0.25, 0.25, 0.25),
}


def bleu_scores(references: list[list[list[str]]], hypotheses: list[list[str]]
                ) -> dict[str, float]:
    """Corpus BLEU-1..4: ``references[i]`` holds the tokenized reference captions of image i."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} reference sets for {len(hypotheses)} hypotheses")
    if not hypotheses:
        return {name: 0.0 for name in BLEU_WEIGHTS}
    with warnings.catch_warnings():
        # nltk warns when an n-gram order has no match; a score of 0 says the same thing.
        warnings.simplefilter("ignore", UserWarning)
        return {name: float(corpus_bleu(references, hypotheses, weights=weights))
                for name, weights in BLEU_WEIGHTS.items()}


def dataset_references(dataset: "Dataset", names: Sequence[str]) -> list[list[list[str]]]:
    """The tokenized reference captions of each named image of ``dataset``, in order."""
    return [[tokenize(text) for text in dataset.captions[name]] for name in names]


def caption_bleu(hypotheses: Sequence[str], references: list[list[list[str]]]
                 ) -> dict[str, float]:
    """BLEU-1..4 of caption lines (their words are split on spaces, as the decoder joined them)."""
    return bleu_scores(references, [text.split() for text in hypotheses])


def evaluate_decoder(decoder: "StepDecoder", features: np.ndarray,
                     references: Sequence[Sequence[str]], vocab: Vocabulary,
                     beam_width: int = 3, batch_size: int = 64) -> dict[str, float]:
    """Caption ``features`` (one row per image) and score against raw reference captions.

    Returns BLEU-1..4 plus ``images``, the number of images scored.
    """
    from desktop_captioner.core.search import beam_search

    hypotheses = beam_search(decoder, features, width=beam_width, max_length=vocab.max_length,
                             batch_size=batch_size)
    scores = bleu_scores([[tokenize(caption) for caption in captions] for captions in references],
                         [vocab.decode(hypothesis.tokens) for hypothesis in hypotheses])
    scores["images"] = float(len(hypotheses))
    return scores
