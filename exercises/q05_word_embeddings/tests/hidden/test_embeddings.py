import random

import pytest
import torch

from grader.testing import assert_close

WORDS = ["the", "cat", "dog", "sat", "on", "mat", "a", "log", "ran", "fast", "Zebra", "apple", "词", "嵌入"]


def random_docs(n_docs, max_len, words=WORDS):
    # Skewed word frequencies so that counts tie often and some words are rare.
    weights = [1.0 / (i + 1) for i in range(len(words))]
    return [random.choices(words, weights, k=random.randint(0, max_len)) for _ in range(n_docs)]


@pytest.mark.points(2)
def test_build_vocab(submission, reference):
    """build_vocab: ids by descending count, ties by token, min_count"""
    for case in range(12):
        docs = random_docs(random.randint(1, 6), 8)
        min_count = [1, 1, 2, 3][case % 4]
        got = submission.build_vocab(docs, min_count=min_count)
        assert_close(got, reference.build_vocab(docs, min_count=min_count),
                     what=f"build_vocab(min_count={min_count})")
    assert_close(submission.build_vocab([]), {}, what="build_vocab of no documents")


@pytest.mark.points(2)
def test_bag_of_words(submission, reference):
    """bag_of_words: counts, float32 [D, V], unknown tokens ignored, empty documents"""
    for _ in range(10):
        docs = random_docs(random.randint(1, 6), 10)
        vocab = reference.build_vocab(random_docs(3, 8), min_count=random.choice([1, 2]))
        assert_close(submission.bag_of_words(docs, vocab), reference.bag_of_words(docs, vocab),
                     what="bag_of_words (some tokens are not in the vocabulary)")
    vocab = {"x": 0, "y": 1}
    assert_close(submission.bag_of_words([[], ["z"]], vocab), torch.zeros(2, 2), what="bag_of_words of documents without known tokens")


@pytest.mark.points(2)
def test_tfidf_default(submission, reference):
    """tfidf with the default options (smoothed idf, raw tf, l2 norm)"""
    for _ in range(10):
        docs = random_docs(random.randint(1, 8), 12)
        vocab = reference.build_vocab(docs)
        assert_close(submission.tfidf(docs, vocab), reference.tfidf(docs, vocab), rtol=1e-4, atol=1e-5,
                     what="tfidf with default options")


@pytest.mark.points(3)
def test_tfidf_options(submission, reference):
    """tfidf with every combination of smooth_idf, sublinear_tf and norm"""
    for smooth in (True, False):
        for sub in (False, True):
            for norm in ("l2", "l1", None):
                for _ in range(2):
                    docs = random_docs(random.randint(2, 7), 12)
                    vocab = reference.build_vocab(docs)
                    got = submission.tfidf(docs, vocab, smooth_idf=smooth, sublinear_tf=sub, norm=norm)
                    assert_close(got, reference.tfidf(docs, vocab, smooth_idf=smooth, sublinear_tf=sub, norm=norm),
                                 rtol=1e-4, atol=1e-5,
                                 what=f"tfidf(smooth_idf={smooth}, sublinear_tf={sub}, norm={norm!r})")
    with pytest.raises(ValueError):
        submission.tfidf([["a"]], {"a": 0}, norm="max")


@pytest.mark.points(2)
def test_tfidf_unseen_words_and_empty_docs(submission, reference):
    """tfidf: vocabulary words absent from every document, documents without known words (no NaN)"""
    for smooth in (True, False):
        for norm in ("l2", "l1", None):
            docs = random_docs(5, 10, WORDS[:6]) + [[], ["unknown", "words"]]
            vocab = reference.build_vocab(random_docs(4, 10))   # holds words absent from docs
            got = submission.tfidf(docs, vocab, smooth_idf=smooth, norm=norm)
            assert_close(got, reference.tfidf(docs, vocab, smooth_idf=smooth, norm=norm), rtol=1e-4, atol=1e-5,
                         what=f"tfidf(smooth_idf={smooth}, norm={norm!r}) with unseen words and empty documents")


@pytest.mark.points(2)
def test_skipgram_pairs(submission, reference):
    """skipgram_pairs: order, sequence boundaries, windows longer than the sequence"""
    for _ in range(15):
        tokens = [random.randint(0, 20) for _ in range(random.randint(0, 12))]
        window = random.randint(1, 5)
        assert_close(submission.skipgram_pairs(tokens, window), reference.skipgram_pairs(tokens, window),
                     what=f"skipgram_pairs (window {window}, {len(tokens)} tokens)")
    assert_close(submission.skipgram_pairs([7], 3), [], what="skipgram_pairs of a single token")
    with pytest.raises(ValueError):
        submission.skipgram_pairs([1, 2, 3], 0)


@pytest.mark.points(2)
def test_cosine_similarity(submission, reference):
    """cosine_similarity: pairwise values, shapes, zero rows give 0"""
    for _ in range(8):
        n, m, d = random.randint(1, 6), random.randint(1, 6), random.randint(1, 9)
        a, b = torch.randn(n, d), torch.randn(m, d) * 10
        a[torch.rand(n) < 0.3] = 0.0
        b[torch.rand(m) < 0.3] = 0.0
        a0, b0 = a.clone(), b.clone()
        assert_close(submission.cosine_similarity(a, b), reference.cosine_similarity(a, b), rtol=1e-4, atol=1e-5,
                     what="cosine_similarity (some rows are all zero)")
        assert torch.equal(a, a0) and torch.equal(b, b0)


@pytest.mark.points(2)
def test_most_similar(submission, reference):
    """most_similar: nearest words by cosine, the word itself excluded"""
    for _ in range(6):
        V, D = random.randint(5, 30), random.randint(2, 8)
        emb = torch.randn(V, D)
        vocab = {f"w{i}": i for i in random.sample(range(V), V)}  # dict order differs from id order
        vocab = dict(sorted(vocab.items(), key=lambda kv: random.random()))
        word = random.choice(list(vocab))
        k = random.randint(1, V + 2)
        assert_close(submission.most_similar(emb, vocab, word, k), reference.most_similar(emb, vocab, word, k),
                     rtol=1e-4, atol=1e-5, what=f"most_similar(k={k})")


@pytest.mark.points(2)
def test_most_similar_ties_and_unknown(submission, reference):
    """most_similar: ties broken by the lower id, zero vectors, KeyError for an unknown word"""
    # Integer vectors: the tied similarities are exactly equal whatever the order of the sums.
    # Small integer vectors, and tied rows are permutations of each other with at most two
    # non-zero products in each dot product: tied similarities are bit-for-bit equal however
    # the sums are ordered.
    emb = torch.tensor([[1., 1., 0., 0.], [0., 0., 1., 1.], [2., 1., 2., 1.], [1., 0., 1., 0.], [0., 1., 0., 1.],
                        [0., 0., 0., 0.], [1., 2., 1., 2.], [0., 0., 0., 0.]])
    for names in (["a", "b", "c", "d", "e", "f", "g", "h"], ["h", "g", "f", "e", "d", "c", "b", "a"]):
        vocab = {w: i for i, w in enumerate(names)}
        for word in (names[2], names[5], names[0]):
            for k in (3, 7):
                assert_close(submission.most_similar(emb, vocab, word, k), reference.most_similar(emb, vocab, word, k),
                             rtol=1e-4, atol=1e-5, what=f"most_similar(k={k}) with tied similarities")
    with pytest.raises(KeyError):
        submission.most_similar(emb, {w: i for i, w in enumerate("abcdefgh")}, "zzz", 2)
