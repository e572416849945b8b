"""Hidden tests for q28_attention: the function against torch's scaled_dot_product_attention, the
module against torch.nn.MultiheadAttention after loading its state dict; masks, causal, fully
masked rows and shapes."""

import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.testing import assert_close

TOL = dict(rtol=1e-4, atol=1e-5)


def qkv(batch=None, same_len=False):
    """Random q [*batch, L, E], k [*batch, S, E], v [*batch, S, Ev]."""
    batch = batch if batch is not None else tuple(random.randint(1, 3) for _ in range(random.randint(1, 2)))
    L, E = random.randint(1, 6), random.randint(2, 8)
    S, Ev = (L if same_len else random.randint(1, 6)), random.randint(1, 8)
    return torch.randn(*batch, L, E), torch.randn(*batch, S, E), torch.randn(*batch, S, Ev)


def expected_weights(q, k, allowed=None, additive=None):
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if additive is not None:
        scores = scores + additive
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1)


def random_allowed(shape, p=0.6):
    """A random boolean mask with at least one allowed key in every row."""
    allowed = torch.rand(shape) < p
    first = torch.randint(0, shape[-1], shape[:-1])
    return allowed | F.one_hot(first, shape[-1]).bool()


@pytest.mark.points(2)
def test_sdpa_matches_torch(submission):
    """scaled_dot_product_attention equals torch's SDPA (output) and softmax(qk^T/sqrt(d)) (weights)"""
    for i in range(8):
        q, k, v = qkv(batch=() if i == 0 else None)
        out, w = submission.scaled_dot_product_attention(q, k, v)
        assert_close(out, F.scaled_dot_product_attention(q, k, v), what="the attention output", **TOL)
        assert_close(w, expected_weights(q, k), what="the attention weights", **TOL)


@pytest.mark.points(2)
def test_sdpa_bool_mask(submission):
    """a boolean mask (True = allowed), full-shape and broadcast [L, S]"""
    for i in range(8):
        q, k, v = qkv()
        L, S = q.shape[-2], k.shape[-2]
        mask = random_allowed((L, S) if i % 2 else q.shape[:-1] + (S,))
        out, w = submission.scaled_dot_product_attention(q, k, v, mask=mask)
        assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                     what="the attention output with a boolean mask", **TOL)
        assert_close(w, expected_weights(q, k, allowed=mask), what="the attention weights with a boolean mask", **TOL)


@pytest.mark.points(1)
def test_sdpa_float_mask(submission):
    """a float mask is added to the scores"""
    for _ in range(6):
        q, k, v = qkv()
        mask = torch.randn(q.shape[-2], k.shape[-2]) * 2
        out, w = submission.scaled_dot_product_attention(q, k, v, mask=mask)
        assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                     what="the attention output with a float mask", **TOL)
        assert_close(w, expected_weights(q, k, additive=mask), what="the attention weights with a float mask", **TOL)


@pytest.mark.points(2)
def test_sdpa_causal(submission):
    """is_causal (top-left aligned, also when L != S), alone and combined with a boolean mask"""
    for i in range(8):
        q, k, v = qkv(same_len=(i % 3 == 0))
        L, S = q.shape[-2], k.shape[-2]
        if L > S:  # top-left alignment with L > S is checked in the fully-masked-rows test
            q = q[..., :S, :]
            L = S
        causal = torch.ones(L, S, dtype=torch.bool).tril()
        out, w = submission.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), what="the causal attention output",
                     **TOL)
        assert_close(w, expected_weights(q, k, allowed=causal), what="the causal attention weights", **TOL)
        mask = random_allowed((L, S)) | torch.eye(L, S, dtype=torch.bool)  # the diagonal keeps every row alive
        out, w = submission.scaled_dot_product_attention(q, k, v, mask=mask, is_causal=True)
        both = mask & causal
        assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=both),
                     what="the attention output with is_causal and a mask", **TOL)
        assert_close(w, expected_weights(q, k, allowed=both), what="the attention weights with is_causal and a mask",
                     **TOL)


@pytest.mark.points(2)
def test_sdpa_fully_masked_rows(submission):
    """a query with no allowed key gets zero weights and a zero output; other rows are unaffected"""
    for i in range(6):
        q, k, v = qkv()
        L, S = q.shape[-2], k.shape[-2]
        allowed = random_allowed(q.shape[:-1] + (S,))
        dead = torch.rand(q.shape[:-1]) < 0.4
        dead.view(-1)[0] = True
        allowed = allowed & ~dead[..., None]
        out, w = submission.scaled_dot_product_attention(q, k, v, mask=allowed)
        exp_w = torch.where(dead[..., None], 0.0, expected_weights(q, k, allowed=allowed))
        assert_close(w, exp_w, what="the weights with fully masked rows", **TOL)
        assert_close(out, exp_w @ v, what="the output with fully masked rows", **TOL)
    # is_causal with more queries than keys: top-left alignment leaves no row empty, and a mask
    # that blocks key 0 empties the first query's row.
    q, k, v = torch.randn(2, 5, 4), torch.randn(2, 3, 4), torch.randn(2, 3, 2)
    causal = torch.ones(5, 3, dtype=torch.bool).tril()
    out, w = submission.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert_close(w, expected_weights(q, k, allowed=causal), what="the causal weights with L > S", **TOL)
    mask = torch.tensor([False, True, True]).expand(5, 3)
    out, w = submission.scaled_dot_product_attention(q, k, v, mask=mask, is_causal=True)
    exp_w = expected_weights(q, k, allowed=mask & causal)
    exp_w[:, 0] = 0.0
    assert_close(w, exp_w, what="the causal weights when the mask empties a row", **TOL)
    assert_close(out, exp_w @ v, what="the causal output when the mask empties a row", **TOL)


def peer_and_candidate(submission, embed_dim, num_heads, bias=True):
    """nn.MultiheadAttention built here (seeded, random biases) and the candidate's module, in the
    worker, loaded with its state dict."""
    peer = nn.MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True)
    with torch.no_grad():
        for p in peer.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    peer.eval()
    mine = submission.MultiHeadAttention(embed_dim, num_heads, bias=bias)
    mine.load_state_dict(peer.state_dict())
    return peer, mine


def mha_inputs(embed_dim, cross):
    B, L = random.randint(1, 3), random.randint(1, 5)
    S = random.randint(1, 6) if cross else L
    query = torch.randn(B, L, embed_dim)
    key = torch.randn(B, S, embed_dim) if cross else query
    value = torch.randn(B, S, embed_dim) if cross else query
    return query, key, value


CONFIGS = [(8, 2, True), (12, 3, True), (6, 1, False), (8, 4, False), (16, 4, True)]


@pytest.mark.points(3)
def test_mha_matches_torch(submission):
    """MultiHeadAttention equals nn.MultiheadAttention (self and cross attention) after load_state_dict"""
    for i, (e, h, bias) in enumerate(CONFIGS):
        peer, mine = peer_and_candidate(submission, e, h, bias)
        for cross in (False, True):
            query, key, value = mha_inputs(e, cross)
            with torch.no_grad():
                exp_out, exp_w = peer(query, key, value)
            out, w = mine(query, key, value)
            assert_close(out, exp_out, what="the module's output", **TOL)
            assert_close(w, exp_w, what="the module's attention weights (averaged over heads)", **TOL)
        out, w = mine(query, key, value, need_weights=False)
        assert w is None, "with need_weights=False the weights should be None"
        assert_close(out, exp_out, what="the module's output with need_weights=False", **TOL)


@pytest.mark.points(1)
def test_mha_parameters(submission):
    """MultiHeadAttention has nn.MultiheadAttention's parameter names and shapes"""
    for e, h, bias in [(8, 2, True), (6, 3, False)]:
        peer = nn.MultiheadAttention(e, h, bias=bias, batch_first=True)
        mine = submission.MultiHeadAttention(e, h, bias=bias)
        state = mine.state_dict()
        assert type(state) is dict or hasattr(state, "keys"), "state_dict() should return a dict"
        expected = {k: tuple(v.shape) for k, v in peer.state_dict().items()}
        got = {k: tuple(v.shape) for k, v in dict(state).items()}
        assert got == expected, (f"parameters (bias={bias}) should be {expected}, got {got}")


@pytest.mark.points(2)
def test_mha_key_padding_mask(submission):
    """key_padding_mask (boolean: True = padding, ignored; and float, added)"""
    for i, (e, h, bias) in enumerate(CONFIGS[:4]):
        peer, mine = peer_and_candidate(submission, e, h, bias)
        query, key, value = mha_inputs(e, cross=bool(i % 2))
        B, S = key.shape[0], key.shape[1]
        pad = ~random_allowed((B, S))
        with torch.no_grad():
            exp_out, exp_w = peer(query, key, value, key_padding_mask=pad)
        out, w = mine(query, key, value, key_padding_mask=pad)
        assert_close(out, exp_out, what="the output with a boolean key_padding_mask", **TOL)
        assert_close(w, exp_w, what="the weights with a boolean key_padding_mask", **TOL)
        fpad = torch.randn(B, S)
        with torch.no_grad():
            exp_out, exp_w = peer(query, key, value, key_padding_mask=fpad)
        out, w = mine(query, key, value, key_padding_mask=fpad)
        assert_close(out, exp_out, what="the output with a float key_padding_mask", **TOL)
        assert_close(w, exp_w, what="the weights with a float key_padding_mask", **TOL)


@pytest.mark.points(2)
def test_mha_attn_mask(submission):
    """attn_mask [L, S] and [B*H, L, S], boolean (True blocks) and float, with key_padding_mask too"""
    for i, (e, h, bias) in enumerate(CONFIGS[:4]):
        peer, mine = peer_and_candidate(submission, e, h, bias)
        query, key, value = mha_inputs(e, cross=bool(i % 2))
        B, L, S = query.shape[0], query.shape[1], key.shape[1]
        masks = [("[L, S] boolean", ~random_allowed((L, S))),
                 ("[B*H, L, S] boolean", ~random_allowed((B * h, L, S))),
                 ("[L, S] float", torch.randn(L, S))]
        for what, mask in masks:
            with torch.no_grad():
                exp_out, exp_w = peer(query, key, value, attn_mask=mask)
            out, w = mine(query, key, value, attn_mask=mask)
            assert_close(out, exp_out, what=f"the output with a {what} attn_mask", **TOL)
            assert_close(w, exp_w, what=f"the weights with a {what} attn_mask", **TOL)
        # Causal self-attention plus padding, the usual decoder case (no row is left empty).
        query = key = value = torch.randn(B, L, e)
        causal = torch.ones(L, L, dtype=torch.bool).triu(1)
        pad = torch.zeros(B, L, dtype=torch.bool)
        pad[:, 0] = False
        if L > 1:
            pad[0, -1] = True
        with torch.no_grad():
            exp_out, exp_w = peer(query, key, value, attn_mask=causal, key_padding_mask=pad)
        out, w = mine(query, key, value, attn_mask=causal, key_padding_mask=pad)
        assert_close(out, exp_out, what="the output with a causal attn_mask and key_padding_mask", **TOL)
        assert_close(w, exp_w, what="the weights with a causal attn_mask and key_padding_mask", **TOL)


@pytest.mark.points(2)
def test_mha_fully_masked(submission):
    """a query with no allowed key gets zero weights, so the module's output there is out_proj.bias"""
    for e, h, bias in CONFIGS[:3]:
        peer, mine = peer_and_candidate(submission, e, h, bias)
        B, L, S = 3, 4, 5
        query, key, value = torch.randn(B, L, e), torch.randn(B, S, e), torch.randn(B, S, e)
        pad = ~random_allowed((B, S))
        pad[1] = True  # every key of the second sequence is padding
        alive = [0, 2]
        with torch.no_grad():
            exp_out, exp_w = peer(query[alive], key[alive], value[alive], key_padding_mask=pad[alive])
        out, w = mine(query, key, value, key_padding_mask=pad)
        assert_close(out[alive], exp_out, what="the output of sequences with some valid keys", **TOL)
        assert_close(w[alive], exp_w, what="the weights of sequences with some valid keys", **TOL)
        bias_out = peer.out_proj.bias.detach() if bias else torch.zeros(e)
        assert_close(out[1], bias_out.expand(L, e).clone(), what="the output of a fully padded sequence", **TOL)
        assert_close(w[1], torch.zeros(L, S), what="the weights of a fully padded sequence", **TOL)
        # attn_mask blocking every key for one query row
        mask = torch.zeros(L, S, dtype=torch.bool)
        mask[2] = True
        out, w = mine(query, key, value, attn_mask=mask)
        assert_close(w[:, 2], torch.zeros(B, S), what="the weights of a query whose attn_mask row blocks every key",
                     **TOL)
        assert_close(out[:, 2], bias_out.expand(B, e).clone(), what="the output of a fully blocked query", **TOL)
