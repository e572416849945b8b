"""Public tests for q06_seq2seq_attention (the hidden tests use random inputs and more checks)."""

import pytest
import torch


def test_attention_uniform_when_scores_equal(submission):
    att = submission.AdditiveAttention(2)
    att.load_state_dict({"W_q.weight": torch.zeros(2, 2), "W_k.weight": torch.zeros(2, 2), "v.weight": torch.zeros(1, 2)})
    keys = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[True, True, False]])
    context, weights = att(torch.tensor([[0.5, -0.5]]), keys, mask)
    expected = torch.tensor([[0.5, 0.5, 0.0]])
    assert torch.allclose(weights, expected), f"all scores equal, mask [T, T, F]: weights should be {expected}, got {weights}"
    assert torch.allclose(context, torch.tensor([[2.0, 3.0]])), (
        f"context should be the mean of the two real keys [[2., 3.]], got {context}")


def test_encoder_shapes_and_padding(submission):
    enc = submission.Encoder(10, 4, 6)
    src = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0]])
    outputs, hidden = enc(src, torch.tensor([4, 2]))
    assert tuple(outputs.shape) == (2, 4, 6), f"outputs should have shape (2, 4, 6), got {tuple(outputs.shape)}"
    assert tuple(hidden.shape) == (1, 2, 6), f"hidden should have shape (1, 2, 6), got {tuple(hidden.shape)}"
    assert torch.equal(outputs[1, 2:], torch.zeros(2, 6)), f"outputs at padded positions should be 0, got {outputs[1, 2:]}"
    assert torch.allclose(hidden[0, 1], outputs[1, 1], atol=1e-6), (
        "hidden of the second sequence (length 2) should equal its output at position 1")


def test_seq2seq_shapes(submission):
    model = submission.Seq2Seq(10, 7, 8, 16)
    model.eval()
    src, lengths = torch.tensor([[3, 4, 5], [6, 0, 0]]), torch.tensor([3, 1])
    logits = model(src, lengths, torch.tensor([[1, 5, 4], [1, 6, 2]]))
    assert tuple(logits.shape) == (2, 3, 7), f"logits should have shape (2, 3, 7), got {tuple(logits.shape)}"
    out = model.greedy_decode(src, lengths, 1, 2, 5)
    assert out.dtype == torch.int64 and out.shape[0] == 2 and 1 <= out.shape[1] <= 5, (
        f"greedy_decode should return int64 [2, L] with L <= 5, got {out.dtype} {tuple(out.shape)}")


@pytest.mark.call_timeout(60)
def test_train_reverse(submission, helpers):
    model = submission.train_reverse(0)
    model.eval()
    data = helpers.make_reversal_data(300, seed=123)
    out = model.greedy_decode(data["src"], data["src_lengths"], helpers.BOS, helpers.EOS, helpers.MAX_LEN + 1)
    acc = helpers.token_accuracy(out, data["src"], data["src_lengths"])
    assert acc >= 0.9, f"token accuracy on 300 unseen sequences should be at least 0.90, got {acc:.3f}"
