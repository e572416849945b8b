"""Hidden tests for q30_bert_inference: batched prediction must equal one-by-one prediction."""

import functools
import random

import pytest
import torch

from grader.testing import assert_close, assert_int


@functools.lru_cache(maxsize=None)
def judge_tokenizer(helpers):
    return helpers.make_tokenizer()


def one_by_one(helpers, texts, num_labels, seed, max_length):
    tokenizer = judge_tokenizer(helpers)
    model = helpers.make_model(num_labels, seed).eval()
    expected = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")
            probs = torch.softmax(model(**enc).logits[0], dim=-1)
            expected.append({"label": int(probs.argmax()), "probs": [float(p) for p in probs]})
    return expected


def check(got, expected, what):
    assert type(got) is list, f"{what}: predict should return a list"
    assert len(got) == len(expected), f"{what}: {len(got)} results for {len(expected)} texts"
    for g in got:
        assert type(g) is dict and set(g) == {"label", "probs"}, f"{what}: each result should be a dict with 'label' and 'probs'"
    # labels can flip only where the top two probabilities tie; compare probabilities first
    assert_close([g["probs"] for g in got], [e["probs"] for e in expected], rtol=1e-4, atol=1e-5,
                 what=f"{what}: probabilities")
    assert_close([g["label"] for g in got], [e["label"] for e in expected], what=f"{what}: labels")


@pytest.mark.points(3)
def test_matches_one_by_one(submission, remote, helpers, seed):
    """batched predictions equal one-by-one predictions, in input order"""
    tokenizer = remote.helpers.make_tokenizer()
    for case, (n, batch_size, num_labels) in enumerate(((11, 4, 3), (7, 8, 2), (14, 3, 5))):
        texts = helpers.random_texts(n, seed + case)
        model = remote.helpers.make_model(num_labels, seed + case)
        model.eval()
        got = submission.predict(model, tokenizer, texts, batch_size=batch_size)
        check(got, one_by_one(helpers, texts, num_labels, seed + case, 64), f"predict with batch_size={batch_size}")


@pytest.mark.points(2)
def test_order_kept_with_mixed_lengths(submission, remote, helpers, seed):
    """input order is kept when lengths are very different"""
    tokenizer = remote.helpers.make_tokenizer()
    short = helpers.random_texts(6, seed, 1, 2)
    long = helpers.random_texts(6, seed + 1, 15, 25)
    texts = [t for pair in zip(long, short) for t in pair]          # long, short, long, short...
    model = remote.helpers.make_model(4, seed)
    model.eval()
    got = submission.predict(model, tokenizer, texts, batch_size=4)
    check(got, one_by_one(helpers, texts, 4, seed, 64), "predict on texts of mixed lengths")
    # defaults: batch_size=8, max_length=64
    got = submission.predict(model, tokenizer, texts[:5])
    check(got, one_by_one(helpers, texts[:5], 4, seed, 64), "predict with default arguments")


@pytest.mark.points(1)
def test_empty_and_truncation(submission, remote, helpers, seed):
    """an empty list gives []; texts longer than max_length are truncated"""
    tokenizer = remote.helpers.make_tokenizer()
    model = remote.helpers.make_model(3, seed)
    model.eval()
    got = submission.predict(model, tokenizer, [], batch_size=4)
    assert type(got) is list and len(got) == 0, "predict([]) should return an empty list"
    texts = helpers.random_texts(6, seed, 20, 40)
    for max_length in (8, 13):
        got = submission.predict(model, tokenizer, texts, batch_size=4, max_length=max_length)
        check(got, one_by_one(helpers, texts, 3, seed, max_length), f"predict with max_length={max_length}")


@pytest.mark.points(2)
def test_dropout_inactive(submission, remote, helpers, seed):
    """a model handed over in train mode is used in eval mode (no dropout)"""
    tokenizer = remote.helpers.make_tokenizer()
    texts = helpers.random_texts(8, seed)
    model = remote.helpers.make_model(3, seed, 0.5)             # train mode, heavy dropout
    got = submission.predict(model, tokenizer, texts, batch_size=4)
    ref_model = helpers.make_model(3, seed, 0.5).eval()
    expected = []
    with torch.no_grad():
        for text in texts:
            enc = judge_tokenizer(helpers)(text, return_tensors="pt")
            probs = torch.softmax(ref_model(**enc).logits[0], dim=-1)
            expected.append({"label": int(probs.argmax()), "probs": [float(p) for p in probs]})
    check(got, expected, "predict on a model given in train mode")


@pytest.mark.points(1)
def test_mode_restored(submission, remote, helpers, seed):
    """the model's previous mode (train or eval) is restored afterwards"""
    tokenizer = remote.helpers.make_tokenizer()
    texts = helpers.random_texts(3, seed)
    model = remote.helpers.make_model(2, seed)
    submission.predict(model, tokenizer, texts)
    assert model.training is True, "a model given in train mode should be back in train mode after predict"
    model.eval()
    submission.predict(model, tokenizer, texts)
    assert model.training is False, "a model given in eval mode should still be in eval mode after predict"


@pytest.mark.points(2)
def test_padding_cost(submission, reference, remote, helpers, seed):
    """pad-token counts with and without sorting, truncation included"""
    tokenizer = remote.helpers.make_tokenizer()
    for case in range(6):
        texts = helpers.random_texts(random.randint(1, 25), seed + case, 1, 20)
        batch_size = random.randint(1, 6)
        max_length = random.choice((8, 16, 64))
        costs = {}
        for sort in (False, True):
            got = submission.padding_cost(tokenizer, texts, batch_size, max_length, sort)
            assert_int(got, "padding_cost")
            expected = reference.padding_cost(judge_tokenizer(helpers), texts, batch_size, max_length, sort)
            assert got == expected, f"padding_cost (sort_by_length={sort}) differs from the reference"
            costs[sort] = got
    assert submission.padding_cost(tokenizer, [], 4, 16, True) == 0, "padding_cost of no texts should be 0"
