import math

import pytest
import torch

from grader.testing import assert_close


@pytest.mark.points(3)
def test_positional_encoding(submission, reference):
    """sinusoidal positional encoding: values, shape and dtype (even and odd d_model)"""
    for max_len, d_model in [(50, 16), (7, 5), (1, 4), (120, 64), (9, 1), (33, 10)]:
        got = submission.sinusoidal_positional_encoding(max_len, d_model)
        expected = reference.sinusoidal_positional_encoding(max_len, d_model)
        assert_close(got, expected, rtol=1e-4, atol=1e-4,
                     what=f"sinusoidal_positional_encoding (d_model {'odd' if d_model % 2 else 'even'})")


def _random_ids(n, length, vocab, pad_id, g):
    """Random real tokens (never pad_id) with random lengths (at least 1), padded with pad_id."""
    ids = torch.randint(0, vocab - 1, (n, length), generator=g)
    ids = ids + (ids >= pad_id).long()  # skip pad_id
    lengths = torch.randint(1, length + 1, (n,), generator=g)
    lengths[0] = length  # one full-length row
    for i in range(n):
        ids[i, lengths[i]:] = pad_id
    return ids, lengths


@pytest.mark.points(4)
def test_forward_matches_reference(submission, reference, rng):
    """forward (eval mode) equals the reference after loading its state dict"""
    configs = [(30, 16, 2, 1, 3, 20, 0), (25, 24, 4, 2, 2, 12, 5), (40, 8, 1, 2, 4, 16, 0)]
    for vocab, d, h, nl, c, max_len, pad in configs:
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=rng)))
        ref = reference.TransformerClassifier(vocab, d, h, nl, c, max_len, pad_id=pad)
        ref.eval()
        cand = submission.TransformerClassifier(vocab, d, h, nl, c, max_len, pad_id=pad)
        try:
            cand.load_state_dict({k: v.clone() for k, v in ref.state_dict().items()})
        except Exception:
            pytest.fail("load_state_dict of a reference model failed: the submodules, their names "
                        "(embedding, encoder, classifier) or the buffer's persistence differ from the README")
        cand.eval()
        for length in (max_len, max_len // 2):
            ids, _ = _random_ids(6, length, vocab, pad, rng)
            with torch.no_grad():
                expected = ref(ids)
            got = cand(ids)
            if type(got) is torch.Tensor:
                got = got.detach()
            assert_close(got, expected, rtol=1e-4, atol=1e-4, what="logits in eval mode")


@pytest.mark.points(3)
def test_padding_invariance(submission, rng):
    """logits (eval mode) do not depend on how much padding follows a sequence, or on the batch"""
    for pad in (0, 7):
        cand = submission.TransformerClassifier(30, 16, 2, 2, 3, 24, pad_id=pad)
        cand.eval()
        ids, lengths = _random_ids(5, 10, 30, pad, rng)
        base = cand(ids)
        assert type(base) is torch.Tensor and base.shape == (5, 3), "forward should return logits of shape [B, num_classes]"
        wide = torch.full((5, 24), pad, dtype=torch.long)
        wide[:, :10] = ids
        assert_close(cand(wide), base, rtol=1e-4, atol=1e-5,
                     what=f"logits after adding padding (pad_id={pad})")
        for i in range(5):
            alone = cand(ids[i:i + 1, :int(lengths[i])])
            assert_close(alone, base[i:i + 1], rtol=1e-4, atol=1e-5,
                         what=f"logits of a sequence without padding vs in a padded batch (pad_id={pad})")


@pytest.mark.points(6)
@pytest.mark.call_timeout(300)
def test_training(submission, helpers, seed):
    """train_classifier reaches at least 95% accuracy on held-out toy data"""
    model = submission.train_classifier(seed % 10_000)
    model.eval()
    x, y = helpers.make_toy_task(500, 1_000_003 + seed)
    logits = model(x)
    assert type(logits) is torch.Tensor and logits.shape == (500, helpers.NUM_CLASSES), \
        "the trained model should return logits of shape [B, NUM_CLASSES]"
    acc = float((logits.argmax(-1) == y).float().mean())
    assert acc >= 0.95, f"held-out accuracy {acc:.3f} is below 0.95"
