import math

import torch

from grader.testing import assert_close


def test_positional_encoding_small(submission):
    got = submission.sinusoidal_positional_encoding(3, 4)
    expected = torch.tensor([
        [0.0, 1.0, 0.0, 1.0],
        [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)],
        [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)],
    ], dtype=torch.float32)
    assert_close(got, expected, atol=1e-5, what="sinusoidal_positional_encoding(3, 4)", reveal=True)


def test_logits_shape_and_padding(submission):
    torch.manual_seed(0)
    model = submission.TransformerClassifier(10, 8, 2, 1, 3, 12, pad_id=0)
    model.eval()
    ids = torch.tensor([[4, 5, 6, 0, 0], [1, 2, 3, 4, 5]])
    out = model(ids)
    assert type(out) is torch.Tensor and out.shape == (2, 3) and out.dtype == torch.float32, \
        f"logits for ids of shape (2, 5) should be a float32 tensor of shape (2, 3), got {out!r}"
    alone = model(torch.tensor([[4, 5, 6]]))
    assert_close(out[:1], alone, atol=1e-5, what="logits of [4, 5, 6] padded with two 0s vs unpadded",
                 reveal=True)
