import pytest
import torch

from grader.testing import assert_close

DOCS = [["the", "cat", "sat"], ["the", "dog", "sat", "the"], ["a", "cat"]]


def test_build_vocab_and_bag_of_words(submission):
    vocab = submission.build_vocab(DOCS)
    expected = {"the": 0, "cat": 1, "sat": 2, "a": 3, "dog": 4}
    assert vocab == expected, f"build_vocab({DOCS}) should be {expected}, got {vocab!r}"
    bow = submission.bag_of_words([["the", "the", "cat", "unknown"]], expected)
    assert_close(bow, torch.tensor([[2., 1., 0., 0., 0.]]), what="bag_of_words([['the','the','cat','unknown']])",
                 reveal=True)


def test_tfidf_default(submission):
    docs = [["a", "b", "a"], ["b", "c"]]
    vocab = {"a": 0, "b": 1, "c": 2}
    # idf(a) = idf(c) = ln(3/2) + 1, idf(b) = 1; rows divided by their L2 norm.
    expected = torch.tensor([[0.94215, 0.33517, 0.0], [0.0, 0.57973, 0.81480]])
    assert_close(submission.tfidf(docs, vocab), expected, rtol=1e-4, atol=1e-4,
                 what=f"tfidf({docs}, {vocab})", reveal=True)


def test_skipgram_pairs(submission):
    got = submission.skipgram_pairs([10, 11, 12], 1)
    expected = [(10, 11), (11, 10), (11, 12), (12, 11)]
    assert got == expected, f"skipgram_pairs([10, 11, 12], 1) should be {expected}, got {got!r}"


def test_cosine_and_most_similar(submission):
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    sim = submission.cosine_similarity(emb[:1], emb)
    assert_close(sim, torch.tensor([[1.0, 0.0, 0.70710678, 0.0]]), what="cosine_similarity(emb[:1], emb)", reveal=True)
    vocab = {"x": 0, "y": 1, "xy": 2, "zero": 3}
    got = submission.most_similar(emb, vocab, "xy", 2)
    assert [w for w, _ in got] == ["x", "y"], f"most_similar(emb, vocab, 'xy', 2) should rank x then y, got {got!r}"
    with pytest.raises(KeyError):
        submission.most_similar(emb, vocab, "nope", 1)
