"""Public tests for q28_attention: small hand-computed examples (run them with `grader check`)."""

import math

import torch

from grader.testing import assert_close

TOL = dict(rtol=1e-4, atol=1e-5, reveal=True)


def test_sdpa_small(submission):
    """scaled_dot_product_attention on a 2-query, 2-key example, with a mask and is_causal"""
    q = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    k = torch.tensor([[math.sqrt(2) * math.log(3), 0.0], [0.0, 0.0]])  # scores of query 0: [log 3, 0]
    v = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    out, w = submission.scaled_dot_product_attention(q, k, v)
    expected_w = torch.tensor([[0.75, 0.25], [0.5, 0.5]])
    assert_close(w, expected_w, what="weights", **TOL)
    assert_close(out, expected_w @ v, what="output", **TOL)
    # Boolean mask, True = allowed: query 1 may only see key 1.
    mask = torch.tensor([[True, True], [False, True]])
    out, w = submission.scaled_dot_product_attention(q, k, v, mask=mask)
    assert_close(w, torch.tensor([[0.75, 0.25], [0.0, 1.0]]), what="weights with a boolean mask", **TOL)
    # is_causal: query 0 sees key 0 only.
    out, w = submission.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert_close(w, torch.tensor([[1.0, 0.0], [0.5, 0.5]]), what="weights with is_causal=True", **TOL)
    # A query with no allowed key: zero weights and zero output (not nan).
    out, w = submission.scaled_dot_product_attention(q, k, v, mask=torch.tensor([[False, False], [True, True]]))
    assert_close(w[0], torch.zeros(2), what="weights of a fully masked query", **TOL)
    assert_close(out[0], torch.zeros(2), what="output of a fully masked query", **TOL)


def test_mha_shapes_and_parameters(submission):
    """MultiHeadAttention: nn.MultiheadAttention's parameter names/shapes and the output shapes"""
    mha = submission.MultiHeadAttention(8, 2)
    shapes = {k: tuple(v.shape) for k, v in mha.state_dict().items()}
    expected = {"in_proj_weight": (24, 8), "in_proj_bias": (24,), "out_proj.weight": (8, 8), "out_proj.bias": (8,)}
    assert shapes == expected, f"state_dict shapes should be {expected}, got {shapes}"
    out, w = mha(torch.randn(3, 4, 8), torch.randn(3, 5, 8), torch.randn(3, 5, 8))
    assert tuple(out.shape) == (3, 4, 8), f"output shape should be (3, 4, 8), got {tuple(out.shape)}"
    assert tuple(w.shape) == (3, 4, 5), f"weights shape should be (3, 4, 5), got {tuple(w.shape)}"
    assert_close(w.sum(-1), torch.ones(3, 4), what="weights sum to 1 over the keys", **TOL)


def test_mha_fully_padded(submission):
    """with every key padded, weights are zero and the output is out_proj.bias"""
    mha = submission.MultiHeadAttention(4, 2)
    state = {"in_proj_weight": torch.eye(4).repeat(3, 1), "in_proj_bias": torch.zeros(12),
             "out_proj.weight": torch.eye(4), "out_proj.bias": torch.tensor([1.0, 2.0, 3.0, 4.0])}
    mha.load_state_dict(state)
    x = torch.randn(1, 2, 4)
    out, w = mha(x, x, x, key_padding_mask=torch.tensor([[True, True]]))
    assert_close(w, torch.zeros(1, 2, 2), what="weights with every key padded", **TOL)
    assert_close(out, torch.tensor([1.0, 2.0, 3.0, 4.0]).expand(1, 2, 4).clone(), what="output with every key padded",
                 **TOL)
