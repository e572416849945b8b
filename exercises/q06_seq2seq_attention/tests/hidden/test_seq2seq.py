"""Hidden tests for q06_seq2seq_attention: Encoder and AdditiveAttention against the reference after
loading its state dict; padding, batch independence and causality of Seq2Seq; greedy decoding
consistent with teacher-forced logits; a trained model that reverses judge-generated sequences."""

import random

import pytest
import torch

from grader.testing import assert_close

TOL = dict(rtol=1e-4, atol=1e-5)


def random_src(batch, vocab, max_len, min_len=1, full=True):
    """src [B, S] padded with 0 after each sequence's length (the first one is full length)."""
    lengths = torch.randint(min_len, max_len + 1, (batch,))
    if full:
        lengths[0] = max_len
    src = torch.randint(1, vocab, (batch, int(lengths.max())))
    src = src.masked_fill(torch.arange(src.shape[1])[None, :] >= lengths[:, None], 0)
    return src, lengths


def length_mask(lengths, S):
    return torch.arange(S)[None, :] < lengths[:, None]


def state_of(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.points(2)
def test_encoder_matches_reference(submission, reference):
    """Encoder: outputs [B,S,H] (zeros on padding) and final hidden [1,B,H] equal the reference's"""
    for vocab, E, H in ((10, 4, 6), (25, 8, 5), (7, 3, 12)):
        ref = reference.Encoder(vocab, E, H)
        for p in ref.parameters():
            torch.nn.init.uniform_(p, -0.8, 0.8)
        enc = submission.Encoder(vocab, E, H)
        enc.load_state_dict(state_of(ref))
        enc.eval()
        for batch, S in ((1, 5), (4, 7), (6, 3)):
            src, lengths = random_src(batch, vocab, S)
            with torch.no_grad():
                exp_out, exp_hidden = ref(src, lengths)
            got = enc(src, lengths)
            assert type(got) is tuple and len(got) == 2, "Encoder.forward should return a tuple (outputs, hidden)"
            assert_close(got[0], exp_out, what="encoder outputs (real and padded positions)", **TOL)
            assert_close(got[1], exp_hidden, what="encoder final hidden state", **TOL)


@pytest.mark.points(1)
def test_encoder_padding_invariance(submission):
    """Encoder: extra padding changes neither the outputs of real tokens nor the final hidden state"""
    enc = submission.Encoder(12, 6, 8)
    enc.eval()
    for _ in range(4):
        src, lengths = random_src(3, 12, random.randint(2, 6))
        extra = torch.cat([src, torch.zeros(3, random.randint(1, 4), dtype=torch.long)], dim=1)
        out, hidden = enc(src, lengths)
        out_pad, hidden_pad = enc(extra, lengths)
        assert type(out_pad) is torch.Tensor and out_pad.shape[:2] == extra.shape, (
            "encoder outputs should have shape [B, S, H] for the padded input")
        assert_close(out_pad[:, :src.shape[1]], out, what="encoder outputs after appending padding", **TOL)
        assert_close(out_pad[:, src.shape[1]:], torch.zeros_like(out_pad[:, src.shape[1]:]),
                     what="encoder outputs at the appended padding positions", **TOL)
        assert_close(hidden_pad, hidden, what="final hidden state after appending padding", **TOL)


@pytest.mark.points(2)
def test_attention_matches_reference(submission, reference):
    """AdditiveAttention: context [B,H] and weights [B,S] equal the reference's (with and without mask)"""
    for H in (3, 8, 16):
        ref = reference.AdditiveAttention(H)
        for p in ref.parameters():
            torch.nn.init.uniform_(p, -1.0, 1.0)
        att = submission.AdditiveAttention(H)
        att.load_state_dict(state_of(ref))
        for batch, S in ((1, 1), (2, 5), (5, 7)):
            query, keys = torch.randn(batch, H), torch.randn(batch, S, H)
            _, lengths = random_src(batch, 3, S)
            mask = length_mask(lengths, S)
            if S > 2:
                mask[-1] = torch.rand(S) < 0.5        # a non-contiguous mask too
                mask[-1, S // 2] = True
            for m in (mask, None):
                with torch.no_grad():
                    exp_ctx, exp_w = ref(query, keys, m)
                got = att(query, keys, m)
                assert type(got) is tuple and len(got) == 2, "AdditiveAttention should return (context, weights)"
                what = "with a mask" if m is not None else "with mask=None"
                assert_close(got[1], exp_w, what=f"attention weights {what}", **TOL)
                assert_close(got[0], exp_ctx, what=f"attention context {what}", **TOL)


@pytest.mark.points(1)
def test_attention_properties(submission):
    """weights sum to 1 over the keys, are exactly 0 on padding, and context = weights @ keys"""
    for H in (4, 10):
        att = submission.AdditiveAttention(H)
        for _ in range(4):
            batch, S = random.randint(1, 5), random.randint(2, 8)
            query, keys = torch.randn(batch, H) * 3, torch.randn(batch, S, H) * 3
            mask = length_mask(torch.randint(1, S + 1, (batch,)), S)
            context, weights = att(query, keys, mask)
            assert type(weights) is torch.Tensor and weights.shape == (batch, S), "weights should be a [B, S] tensor"
            assert type(context) is torch.Tensor and context.shape == (batch, H), "context should be a [B, H] tensor"
            assert_close(weights.sum(-1), torch.ones(batch), what="the sum of the attention weights of a query", **TOL)
            assert bool((weights[~mask] == 0).all()), "attention weights on padded positions should be exactly 0"
            assert bool((weights >= 0).all()), "attention weights should be non-negative"
            assert_close(context, torch.einsum("bs,bsh->bh", weights, keys), what="context vs weights @ keys", **TOL)


@pytest.mark.points(1)
def test_seq2seq_shapes(submission):
    """forward returns float logits [B,T,V_tgt]; greedy_decode an int64 [B,L] with L <= max_len"""
    for src_vocab, tgt_vocab in ((9, 6), (5, 11)):
        model = submission.Seq2Seq(src_vocab, tgt_vocab, 8, 12)
        model.eval()
        src, lengths = random_src(3, src_vocab, 6)
        tgt_in = torch.randint(1, tgt_vocab, (3, 4))
        logits = model(src, lengths, tgt_in)
        assert type(logits) is torch.Tensor and logits.dtype == torch.float32, "forward should return a float32 tensor"
        assert logits.shape == (3, 4, tgt_vocab), "forward should return logits of shape [B, T, tgt_vocab]"
        out = model.greedy_decode(src, lengths, 1, 2, 5)
        assert type(out) is torch.Tensor and out.dtype == torch.int64, "greedy_decode should return an int64 tensor"
        assert out.dim() == 2 and out.shape[0] == 3 and 1 <= out.shape[1] <= 5, (
            "greedy_decode should return a [B, L] tensor with 1 <= L <= max_len")


@pytest.mark.points(2)
def test_seq2seq_padding_and_batch_invariance(submission):
    """Seq2Seq logits do not change with extra source padding nor with the other sequences of the batch"""
    for _ in range(2):
        model = submission.Seq2Seq(10, 7, 6, 10)
        model.eval()
        src, lengths = random_src(4, 10, 6, min_len=2)
        tgt_in = torch.randint(1, 7, (4, 5))
        logits = model(src, lengths, tgt_in)
        padded = torch.cat([src, torch.zeros(4, 3, dtype=torch.long)], dim=1)
        assert_close(model(padded, lengths, tgt_in), logits, what="logits after appending source padding", **TOL)
        for b in range(4):
            n = int(lengths[b])
            alone = model(src[b:b + 1, :n], lengths[b:b + 1], tgt_in[b:b + 1])
            assert_close(alone, logits[b:b + 1], what="logits of a sequence decoded alone vs in a padded batch", **TOL)


@pytest.mark.points(1)
def test_decoder_is_causal(submission):
    """the logits at step t depend only on tgt_in[:, :t+1]"""
    model = submission.Seq2Seq(8, 9, 6, 10)
    model.eval()
    src, lengths = random_src(3, 8, 5)
    tgt_in = torch.randint(1, 9, (3, 6))
    logits = model(src, lengths, tgt_in)
    for t in (1, 3, 5):
        changed = tgt_in.clone()
        changed[:, t:] = torch.randint(1, 9, changed[:, t:].shape)
        got = model(src, lengths, changed)
        assert_close(got[:, :t], logits[:, :t], what="logits before the changed decoder inputs", **TOL)
        assert_close(model(src, lengths, tgt_in[:, :t]), logits[:, :t], what="logits of a shorter tgt_in", **TOL)


@pytest.mark.points(2)
def test_greedy_decode_consistent(submission):
    """greedy_decode picks the argmax fed back step by step, pads after EOS and stops when all are done"""
    bos, eos = 1, 2
    for trial in range(8):
        tgt_vocab = 4 if trial % 2 else 6
        model = submission.Seq2Seq(9, tgt_vocab, 5, 8)
        model.eval()
        src, lengths = random_src(5, 9, 6)
        max_len = 7
        out = model.greedy_decode(src, lengths, bos, eos, max_len)
        assert type(out) is torch.Tensor and out.dtype == torch.int64 and out.dim() == 2 and out.shape[0] == 5, (
            "greedy_decode should return an int64 [B, L] tensor")
        L = out.shape[1]
        assert 1 <= L <= max_len, "greedy_decode returned more than max_len tokens"
        ends = []
        for b in range(5):
            hits = (out[b] == eos).nonzero()
            k = int(hits[0]) if hits.numel() else None
            ends.append(k)
            if k is not None:
                assert bool((out[b, k + 1:] == 0).all()), "positions after a sequence's EOS should be 0 (padding)"
        if all(k is not None for k in ends):
            assert L == max(ends) + 1, "greedy_decode should stop as soon as every sequence has produced EOS"
        else:
            assert L == max_len, "greedy_decode stopped before max_len although a sequence has no EOS yet"
        tgt_in = torch.cat([torch.full((5, 1), bos, dtype=torch.long), out[:, :-1]], dim=1)
        best = model(src, lengths, tgt_in).argmax(-1)
        for b in range(5):
            k = L - 1 if ends[b] is None else ends[b]
            assert torch.equal(out[b, :k + 1], best[b, :k + 1]), (
                "greedy tokens differ from the argmax of forward() fed with the previously decoded tokens")


@pytest.mark.points(6)
@pytest.mark.call_timeout(60)
def test_reversal_accuracy(submission, helpers, seed):
    """train_reverse: at least 90% token accuracy on unseen reversal sequences (greedy, within 60 s)"""
    model = submission.train_reverse(seed % 1000)
    model.eval()
    data = helpers.make_reversal_data(500, seed=50_000 + seed % 10_000)
    out = model.greedy_decode(data["src"], data["src_lengths"], helpers.BOS, helpers.EOS, helpers.MAX_LEN + 1)
    assert type(out) is torch.Tensor and out.dtype == torch.int64 and out.dim() == 2 and out.shape[0] == 500, (
        "greedy_decode should return an int64 [B, L] tensor")
    acc = helpers.token_accuracy(out, data["src"], data["src_lengths"])
    assert acc >= 0.9, f"token accuracy on unseen sequences is {acc:.3f}, below the required 0.90"
