"""Vocabulary: reserved ids, min_count, training-split-only building, punctuation, round trip."""

from __future__ import annotations

import json

import pytest

from desktop_captioner.core.errors import ModelFileError
from desktop_captioner.core.vocabulary import END, PAD, START, UNK, Vocabulary, tokenize


def test_tokenize_lowercases_and_drops_punctuation():
    assert tokenize("A dog's ball, RED-and-white!  Isn't it?") == [
        "a", "dogs", "ball", "red", "and", "white", "isnt", "it"]
    assert tokenize("A child in a pink dress .") == ["a", "child", "in", "a", "pink", "dress"]


def test_reserved_ids_are_not_text_tokens():
    vocab = Vocabulary.build(["<start> the <end> <unk> <pad> dog"] * 5, min_count=1)
    assert (PAD, START, END, UNK) == (0, 1, 2, 3)
    assert vocab.encode("<start> dog <end>") == [
        START, vocab.id_of("start"), vocab.id_of("dog"), vocab.id_of("end"), END]
    assert min(vocab.id_of(word) for word in ("start", "end", "unk", "pad", "the", "dog")) >= 4


def test_min_count_and_unknown_words():
    vocab = Vocabulary.build(["a dog runs", "a dog sits", "a cat"], min_count=2)
    assert vocab.words == ["a", "dog"]  # most frequent first
    assert vocab.size == 6
    assert vocab.encode("a cat runs") == [START, vocab.id_of("a"), UNK, UNK, END]


def test_built_from_the_captions_given_only():
    vocab = Vocabulary.build(["a dog runs"] * 5)  # the caller passes the training split only
    assert vocab.id_of("zebra") == UNK and vocab.id_of("dog") != UNK


def test_encode_truncates_to_max_length_and_decode_stops_at_end():
    vocab = Vocabulary.build(["one two three four"], min_count=1, max_length=3)
    ids = vocab.encode("one two three four")
    assert len(ids) == 5 and ids[0] == START and ids[-1] == END
    assert vocab.decode([START, *ids[1:3], END, ids[3], PAD]) == ["one", "two"]


def test_round_trip_through_json():
    vocab = Vocabulary.build(["the cat sat on the mat"] * 5, min_count=5, max_length=12)
    again = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again.words == vocab.words and again.max_length == 12 and again.min_count == 5
    assert again.encode("the cat ran") == vocab.encode("the cat ran")


@pytest.mark.parametrize("data", [{}, {"format": 1, "words": ["a", "a"], "min_count": 1,
                                       "max_length": 3}, {"format": 99}])
def test_damaged_dict_is_a_model_file_error(data):
    with pytest.raises(ModelFileError):
        Vocabulary.from_dict(data)
