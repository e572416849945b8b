"""Hidden tests for q10_bert_classifier: differential against transformers.BertForSequenceClassification."""

import pytest
import torch
import torch.nn.functional as F
import transformers

from grader.testing import assert_close, fetch, keep

# Tiny configs (no download). initializer_range is larger than BERT's 0.02 so that the logits
# depend visibly on the input, the mask and the segment ids.
CONFIGS = [
    dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
         max_position_embeddings=64, initializer_range=0.2),
    dict(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=4, intermediate_size=32,
         max_position_embeddings=32, type_vocab_size=3, initializer_range=0.3),
]


def peer_model(config, num_labels):
    peer = transformers.BertForSequenceClassification(transformers.BertConfig(**config, num_labels=num_labels))
    return peer.eval()


def random_batch(config, batch, length, rng):
    ids = torch.randint(1, config["vocab_size"], (batch, length), generator=rng)
    lengths = torch.randint(1, length + 1, (batch,), generator=rng)
    lengths[0] = length
    mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
    ids = ids * mask                                          # pad id 0 after the real tokens
    types = torch.randint(0, config.get("type_vocab_size", 2), (batch, length), generator=rng) * mask
    return ids, mask, types


def candidate(submission, config, num_labels, peer, dropout=0.1):
    model = submission.BertClassifier(config, num_labels, dropout)
    model.load_state_dict({k: v.clone() for k, v in peer.state_dict().items()})
    model.eval()
    return model


@pytest.mark.points(1)
def test_structure(submission):
    """bert, dropout and classifier attributes of the right types and sizes"""
    config = CONFIGS[0]
    model = submission.BertClassifier(config, 5, 0.3)
    assert model.bert.remote_type.endswith("BertModel"), f"bert should be a transformers BertModel, got {model.bert.remote_type}"
    assert model.dropout.remote_type.endswith("Dropout"), f"dropout should be a torch.nn.Dropout, got {model.dropout.remote_type}"
    assert model.dropout.p == 0.3, "dropout does not use the requested probability"
    assert model.classifier.remote_type.endswith("Linear"), f"classifier should be a torch.nn.Linear, got {model.classifier.remote_type}"
    assert model.classifier.in_features == 32 and model.classifier.out_features == 5, "classifier has the wrong size"
    assert model.bert.pooler.remote_type.endswith("BertPooler"), "bert should keep its pooling layer"


@pytest.mark.points(3)
def test_logits_match_peer(submission, rng):
    """logits equal BertForSequenceClassification's after loading its state dict"""
    for config in CONFIGS:
        for num_labels in (2, 4):
            peer = peer_model(config, num_labels)
            model = candidate(submission, config, num_labels, peer)
            for batch, length in ((3, 9), (1, 5), (4, 12)):
                ids, mask, types = random_batch(config, batch, length, rng)
                with torch.no_grad():
                    expected = peer(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
                got = model(ids, attention_mask=mask, token_type_ids=types)
                assert type(got) is dict and "logits" in got, "forward should return a dict with 'logits'"
                assert "loss" not in got, "forward without labels should not return a loss"
                assert_close(got["logits"], expected, rtol=1e-4, atol=1e-5,
                             what="logits (with attention_mask and token_type_ids)")
            # The defaults: no mask (all tokens real) and no segment ids (all 0).
            ids = torch.randint(1, config["vocab_size"], (2, 6), generator=rng)
            with torch.no_grad():
                expected = peer(input_ids=ids).logits
            assert_close(model(ids)["logits"], expected, rtol=1e-4, atol=1e-5,
                         what="logits with the default attention_mask and token_type_ids")


@pytest.mark.points(2)
def test_loss_is_cross_entropy(submission, rng):
    """loss is the mean cross-entropy of the returned logits"""
    config = CONFIGS[0]
    for num_labels in (2, 3, 5):
        peer = peer_model(config, num_labels)
        model = candidate(submission, config, num_labels, peer)
        for batch in (1, 4, 7):
            ids, mask, types = random_batch(config, batch, 8, rng)
            labels = torch.randint(0, num_labels, (batch,), generator=rng)
            got = model(ids, attention_mask=mask, token_type_ids=types, labels=labels)
            assert type(got) is dict and "loss" in got and "logits" in got, \
                "forward with labels should return a dict with 'logits' and 'loss'"
            logits = got["logits"]
            assert type(logits) is torch.Tensor, "logits should be a tensor"
            expected = F.cross_entropy(logits, labels)
            assert_close(got["loss"], expected, rtol=1e-4, atol=1e-5, what="loss")


@pytest.mark.points(2)
def test_padding_invariance(submission, rng):
    """in eval mode, extra padding (mask 0) leaves the logits unchanged"""
    config = CONFIGS[0]
    peer = peer_model(config, 3)
    model = candidate(submission, config, 3, peer)
    for _ in range(4):
        length = int(torch.randint(2, 8, (1,), generator=rng))
        extra = int(torch.randint(1, 6, (1,), generator=rng))
        ids = torch.randint(1, config["vocab_size"], (2, length), generator=rng)
        mask = torch.ones_like(ids)
        padded_ids = torch.cat([ids, torch.randint(1, config["vocab_size"], (2, extra), generator=rng)], dim=1)
        padded_mask = torch.cat([mask, torch.zeros(2, extra, dtype=torch.long)], dim=1)
        plain = model(ids, attention_mask=mask)["logits"]
        padded = model(padded_ids, attention_mask=padded_mask)["logits"]
        assert type(plain) is torch.Tensor, "logits should be a tensor"
        assert_close(padded, plain, rtol=1e-4, atol=1e-5, what="logits after adding masked padding")


@pytest.mark.points(2)
def test_gradients_reach_embeddings(submission, rng):
    """loss.backward() reaches the word embeddings and the classifier"""
    config = CONFIGS[0]
    model = submission.BertClassifier(config, 3, 0.1)
    model.train()
    ids, mask, types = random_batch(config, 4, 8, rng)
    labels = torch.randint(0, 3, (4,), generator=rng)
    out = keep(model)(ids, attention_mask=mask, token_type_ids=types, labels=labels)
    keep(out)["loss"].backward()
    grad = fetch(keep(model).bert.embeddings.word_embeddings.weight.grad)
    assert type(grad) is torch.Tensor, "no gradient reached bert.embeddings.word_embeddings"
    assert float(grad.abs().sum()) > 0, "the gradient at the word embeddings is zero"
    grad = fetch(keep(model).classifier.weight.grad)
    assert type(grad) is torch.Tensor and float(grad.abs().sum()) > 0, "no gradient reached the classifier"
