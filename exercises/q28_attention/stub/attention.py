"""Attention by hand: scaled dot-product attention and a multi-head attention module.

Do not use torch's scaled_dot_product_attention, nn.MultiheadAttention or
multi_head_attention_forward.
"""

from __future__ import annotations

import torch
from torch import nn


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
                                 is_causal: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(E) + mask) v for q [..., L, E], k [..., S, E], v [..., S, Ev].

    ``mask`` broadcasts to [..., L, S]: boolean (True = the key takes part) or float (added to the
    scores). ``is_causal=True`` allows key j for query i only when j <= i (the lower triangle,
    aligned to the top-left corner), combined with ``mask``. Returns (output [..., L, Ev],
    weights [..., L, S]). A query with no allowed key gets zero weights and a zero output.
    """
    raise NotImplementedError


class MultiHeadAttention(nn.Module):
    """Multi-head attention, batch first, with the parameters of nn.MultiheadAttention:
    ``in_proj_weight`` [3E, E] (q, k, v stacked), ``in_proj_bias`` [3E] (None without bias) and
    ``out_proj`` (an nn.Linear(E, E, bias=bias))."""

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None, attn_mask: torch.Tensor | None = None,
                need_weights: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """query [B, L, E], key and value [B, S, E] -> (output [B, L, E], weights [B, L, S] averaged
        over heads, or None when need_weights is False).

        Masks follow nn.MultiheadAttention: boolean True = blocked, float = added;
        ``key_padding_mask`` [B, S], ``attn_mask`` [L, S] or [B * num_heads, L, S].
        """
        raise NotImplementedError
