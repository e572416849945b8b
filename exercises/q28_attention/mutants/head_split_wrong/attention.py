"""Reference solution for q28_attention: scaled dot-product attention and multi-head attention.

``scaled_dot_product_attention`` is the core: softmax(q k^T / sqrt(d) + mask) v. The module
projects the inputs, splits the heads, calls it with one combined additive mask and merges the
heads again, with the same parameters (names, shapes, layout) as ``torch.nn.MultiheadAttention``,
so that a state dict of one loads into the other.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
                                 is_causal: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention of queries q [..., L, E] over keys k [..., S, E] and values v [..., S, Ev].

    ``mask`` (broadcastable to [..., L, S]) is boolean, True where attention is allowed, or float,
    added to the scores. ``is_causal`` allows key j for query i only when j <= i (top-left
    aligned), combined with ``mask``. Returns (output [..., L, Ev], weights [..., L, S]); a query
    with no allowed key gets all-zero weights and a zero output.
    """
    L, S = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
    if is_causal:
        causal = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
    # A row whose scores are all -inf would give softmax 0/0 = nan: give it zero weights instead.
    has_key = (scores > float("-inf")).any(dim=-1, keepdim=True)
    weights = torch.softmax(scores.masked_fill(~has_key, 0.0), dim=-1) * has_key
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """Multi-head attention with nn.MultiheadAttention's parameters and masks (batch first)."""

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError("embed_dim must be divisible by num_heads")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        # The q, k and v projections packed in one [3E, E] matrix, as nn.MultiheadAttention.
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        if bias:
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    def _split(self, x: torch.Tensor, part: int) -> torch.Tensor:
        """Project x [B, T, E] with the part-th third of the packed weights, then split heads -> [B, H, T, D]."""
        e = self.embed_dim
        w = self.in_proj_weight[part * e:(part + 1) * e]
        b = None if self.in_proj_bias is None else self.in_proj_bias[part * e:(part + 1) * e]
        y = x @ w.T + (0 if b is None else b)
        batch, length, _ = x.shape
        return y.view(batch, self.num_heads, length, self.head_dim)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None, attn_mask: torch.Tensor | None = None,
                need_weights: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        batch, L, _ = query.shape
        S = key.shape[1]
        q, k, v = self._split(query, 0), self._split(key, 1), self._split(value, 2)

        # One additive mask [B, H, L, S]: 0 where allowed, -inf where blocked (boolean masks: True
        # blocks, as in nn.MultiheadAttention), plus the values of float masks.
        additive = torch.zeros(batch, self.num_heads, L, S, dtype=q.dtype)
        if attn_mask is not None:
            m = attn_mask if attn_mask.dim() == 2 else attn_mask.view(batch, self.num_heads, L, S)
            additive = additive.masked_fill(m, float("-inf")) if m.dtype == torch.bool else additive + m
        if key_padding_mask is not None:
            m = key_padding_mask[:, None, None, :]
            additive = additive.masked_fill(m, float("-inf")) if m.dtype == torch.bool else additive + m

        context, weights = scaled_dot_product_attention(q, k, v, mask=additive)
        # Merge heads: [B, H, L, D] -> [B, L, E], then the output projection.
        context = context.transpose(1, 2).reshape(batch, L, self.embed_dim)
        output = self.out_proj(context)
        return output, (weights.mean(dim=1) if need_weights else None)
