"""q06_seq2seq_attention: a GRU encoder-decoder with additive attention, trained to reverse sequences.

Padding id is 0; padding is at the end of each sequence. See README.md for the conventions.
"""

from __future__ import annotations

import torch
from torch import nn


class Encoder(nn.Module):
    """``self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)`` and
    ``self.rnn = nn.GRU(emb_dim, hidden_dim, batch_first=True)`` (one layer, unidirectional)."""

    def __init__(self, vocab_size: int, emb_dim: int, hidden_dim: int) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """src [B, S] (int64, padded with 0), src_lengths [B] (int64, >= 1) ->
        (outputs [B, S, H], zeros at padded positions; hidden [1, B, H], the GRU state after each
        sequence's last real token)."""
        raise NotImplementedError


class AdditiveAttention(nn.Module):
    """Bahdanau attention: score(q, k_s) = v(tanh(W_q(q) + W_k(k_s))) with
    ``self.W_q``, ``self.W_k`` = nn.Linear(hidden_dim, hidden_dim, bias=False) and
    ``self.v`` = nn.Linear(hidden_dim, 1, bias=False)."""

    def __init__(self, hidden_dim: int) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, query: torch.Tensor, keys: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """query [B, H], keys [B, S, H], mask [B, S] (bool, True = real token; None = all real) ->
        (context [B, H] = sum_s weights[:, s] * keys[:, s]; weights [B, S], softmax of the scores
        over the real positions, exactly 0 on masked positions)."""
        raise NotImplementedError


class Seq2Seq(nn.Module):
    """Encoder + attention + a GRU decoder that attends over the encoder outputs at every step."""

    def __init__(self, src_vocab: int, tgt_vocab: int, emb_dim: int, hidden_dim: int) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: src [B, S], src_lengths [B], tgt_in [B, T] (decoder inputs, BOS first) ->
        logits [B, T, tgt_vocab] (float32); the logits at step t depend only on the real source
        tokens and tgt_in[:, :t+1]."""
        raise NotImplementedError

    def greedy_decode(self, src: torch.Tensor, src_lengths: torch.Tensor, bos: int, eos: int,
                      max_len: int) -> torch.Tensor:
        """Greedy decoding from ``bos``, feeding back the argmax token at each step, without gradients ->
        LongTensor [B, L] of generated tokens (BOS not included): 0 after a sequence's EOS; stops
        as soon as every sequence has produced EOS (L = last EOS position + 1) or after max_len steps."""
        raise NotImplementedError


def train_reverse(seed: int = 0) -> Seq2Seq:
    """Train a Seq2Seq on the reversal task of helpers.py (``import helpers``) and return it.

    Must finish within 60 s on one CPU core; seed the randomness with ``seed``.
    """
    raise NotImplementedError
