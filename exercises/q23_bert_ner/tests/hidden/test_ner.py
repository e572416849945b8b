"""Hidden tests for q23_bert_ner."""

import random

import pytest
import torch
import torch.nn.functional as F
import transformers

from grader.testing import assert_close

CONFIG = dict(vocab_size=80, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
              max_position_embeddings=64, initializer_range=0.2)

ID2LABEL = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC", 5: "B-ORG", 6: "I-ORG"}


def random_word_ids(n_words, pad=0, pair_words=None):
    """word_ids of a [CLS] w w w [SEP] (w w [SEP]) [PAD].. sequence, 1-3 sub-tokens per word."""
    ids = [None]
    for w in range(n_words):
        ids += [w] * random.choice((1, 1, 1, 2, 3))
    ids.append(None)
    if pair_words is not None:
        for w in range(pair_words):
            ids += [w] * random.choice((1, 2))
        ids.append(None)
    return ids + [None] * pad


@pytest.mark.points(3)
def test_align_labels_random(submission, reference):
    """label alignment on random sub-token splits, both modes, any ignore_index"""
    for case in range(40):
        n = random.randint(1, 8)
        word_ids = random_word_ids(n, pad=random.randint(0, 3))
        word_labels = [random.randint(0, 6) for _ in range(n)]
        label_all = case % 2 == 1
        ignore = -100 if case % 3 else -1
        expected = reference.align_labels_with_tokens(word_ids, word_labels, label_all, ignore)
        got = submission.align_labels_with_tokens(word_ids, word_labels, label_all_subtokens=label_all,
                                                  ignore_index=ignore)
        mode = "label_all_subtokens=True" if label_all else "label_all_subtokens=False"
        assert_close(got, expected, what=f"aligned labels ({mode}, ignore_index={ignore})")
    # Defaults
    word_ids = random_word_ids(4)
    labels = [1, 2, 0, 3]
    assert_close(submission.align_labels_with_tokens(word_ids, labels),
                 reference.align_labels_with_tokens(word_ids, labels), what="aligned labels with default arguments")


@pytest.mark.points(1)
def test_align_labels_edge_cases(submission, reference):
    """special tokens only, sentence pairs (word ids restart), a single word"""
    cases = [
        ([None, None], []),
        ([None, 0, None], [4]),
        ([None, 0, 0, 0, None], [3]),
        ([None, 0, 1, 1, None, 0, 0, 1, None, None], [1, 2]),   # pair: word ids restart after [SEP]
        ([0, 0, 1], [5, 6]),                                    # no special tokens
    ]
    for word_ids, labels in cases:
        for label_all in (False, True):
            expected = reference.align_labels_with_tokens(word_ids, labels, label_all)
            got = submission.align_labels_with_tokens(word_ids, labels, label_all)
            assert_close(got, expected, what=f"aligned labels in an edge case (label_all_subtokens={label_all})")


def peer_and_candidate(submission, num_labels):
    peer = transformers.BertForTokenClassification(transformers.BertConfig(**CONFIG, num_labels=num_labels)).eval()
    model = submission.BertTokenClassifier(CONFIG, num_labels)
    model.load_state_dict({k: v.clone() for k, v in peer.state_dict().items()})
    model.eval()
    return peer, model


def random_batch(batch, length, rng):
    ids = torch.randint(1, CONFIG["vocab_size"], (batch, length), generator=rng)
    lengths = torch.randint(1, length + 1, (batch,), generator=rng)
    lengths[0] = length
    mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
    types = torch.randint(0, 2, (batch, length), generator=rng) * mask
    return ids * mask, mask, types


@pytest.mark.points(3)
def test_logits_match_peer(submission, rng):
    """logits equal BertForTokenClassification's after loading its state dict"""
    for num_labels in (3, 7):
        peer, model = peer_and_candidate(submission, num_labels)
        for batch, length in ((2, 9), (3, 5), (1, 12)):
            ids, mask, types = random_batch(batch, length, rng)
            with torch.no_grad():
                expected = peer(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
            got = model(ids, attention_mask=mask, token_type_ids=types)
            assert type(got) is dict and "logits" in got, "forward should return a dict with 'logits'"
            assert "loss" not in got, "forward without labels should not return a loss"
            assert_close(got["logits"], expected, rtol=1e-4, atol=1e-5, what="token logits")
        ids = torch.randint(1, CONFIG["vocab_size"], (2, 6), generator=rng)
        with torch.no_grad():
            expected = peer(input_ids=ids).logits
        assert_close(model(ids)["logits"], expected, rtol=1e-4, atol=1e-5,
                     what="token logits with the default attention_mask and token_type_ids")


@pytest.mark.points(2)
def test_loss_ignores_index(submission, rng):
    """loss is the mean cross-entropy over positions whose label is not -100"""
    peer, model = peer_and_candidate(submission, 5)
    for batch, length in ((2, 8), (4, 6), (1, 10)):
        ids, mask, types = random_batch(batch, length, rng)
        labels = torch.randint(0, 5, (batch, length), generator=rng)
        drop = torch.rand(batch, length, generator=rng) < 0.4
        drop[:, 0] = True                                   # [CLS] is always ignored
        drop[0, 1] = False                                  # at least one labelled position
        labels = labels.masked_fill(drop | (mask == 0), -100)
        got = model(ids, attention_mask=mask, token_type_ids=types, labels=labels)
        assert type(got) is dict and "loss" in got and "logits" in got, \
            "forward with labels should return a dict with 'logits' and 'loss'"
        logits = got["logits"]
        assert type(logits) is torch.Tensor, "logits should be a tensor"
        expected = F.cross_entropy(logits.reshape(-1, 5), labels.reshape(-1), ignore_index=-100)
        assert_close(got["loss"], expected, rtol=1e-4, atol=1e-5, what="loss with ignored (-100) positions")


def random_tags(n):
    return [random.choice((0, 0, 0, 1, 2, 3, 4, 5, 6)) for _ in range(n)]


@pytest.mark.points(2)
def test_decode_entities_random(submission, reference):
    """entity spans from random BIO predictions with sub-tokens"""
    for case in range(40):
        n = random.randint(1, 10)
        word_ids = random_word_ids(n, pad=random.randint(0, 2))
        preds = [random.randint(0, 6) for _ in word_ids]
        expected = reference.decode_entities(preds, word_ids, ID2LABEL)
        as_tensor = case % 2 == 1
        got = submission.decode_entities(torch.tensor(preds) if as_tensor else preds, word_ids, ID2LABEL)
        kind = "a LongTensor" if as_tensor else "a list"
        assert_close(got, expected, what=f"decoded entities (predictions given as {kind})")


@pytest.mark.points(1)
def test_decode_entities_edge_cases(submission, reference):
    """I- without B-, type changes, entity at the end, sub-token predictions, no entity"""
    L = {v: k for k, v in ID2LABEL.items()}
    cases = [
        ([None, 0, 1, 2, None], ["O", "O", "O", "O", "O"]),
        ([None, 0, 1, 2, None], ["O", "I-PER", "I-PER", "O", "O"]),               # I- opens an entity
        ([None, 0, 1, 2, None], ["O", "B-PER", "I-LOC", "I-LOC", "O"]),          # type change
        ([None, 0, 1, 2, None], ["O", "O", "B-ORG", "I-ORG", "O"]),              # entity up to the end
        ([None, 0, 0, 1, 1, None], ["O", "B-LOC", "O", "I-LOC", "B-PER", "O"]),  # only first sub-tokens count
        ([None, 0, 1, 2, None], ["O", "B-PER", "B-PER", "I-PER", "O"]),          # B- after B- of the same type
        ([None, None], ["O", "O"]),
    ]
    for word_ids, tags in cases:
        preds = [L[t] for t in tags]
        expected = reference.decode_entities(preds, word_ids, ID2LABEL)
        got = submission.decode_entities(preds, word_ids, ID2LABEL)
        assert_close(got, expected, what="decoded entities in an edge case")
