"""Alternative solution: einsum, a loop over heads, masks applied as boolean 'blocked' sets."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    L, S, d = q.shape[-2], k.shape[-2], q.shape[-1]
    logits = torch.einsum("...le,...se->...ls", q, k) * (1.0 / math.sqrt(d))
    blocked = torch.zeros(logits.shape, dtype=torch.bool)
    if mask is not None:
        if mask.dtype == torch.bool:
            blocked = blocked | ~mask
        else:
            logits = logits + mask
    if is_causal:
        i = torch.arange(L)[:, None]
        j = torch.arange(S)[None, :]
        blocked = blocked | (j > i)
    blocked = blocked | torch.isneginf(logits)
    empty = blocked.all(dim=-1, keepdim=True)
    logits = logits.masked_fill(blocked, -1e30)  # finite: a fully blocked row stays finite
    w = torch.exp(logits - logits.amax(dim=-1, keepdim=True))
    w = w.masked_fill(blocked, 0.0)
    w = w / w.sum(dim=-1, keepdim=True).clamp(min=1e-38)
    w = torch.where(empty, torch.zeros_like(w), w)
    return torch.einsum("...ls,...sv->...lv", w, v), w


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.in_proj_weight = nn.Parameter(torch.randn(3 * embed_dim, embed_dim) / math.sqrt(embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None, need_weights=True):
        B, L, E = query.shape
        S = key.shape[1]
        H = self.num_heads
        D = E // H
        wq, wk, wv = self.in_proj_weight.chunk(3)
        if self.in_proj_bias is not None:
            bq, bk, bv = self.in_proj_bias.chunk(3)
        else:
            bq = bk = bv = None
        Q, K, V = F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)
        outs, weights = [], []
        for h in range(H):
            sl = slice(h * D, (h + 1) * D)
            extra = torch.zeros(B, L, S)
            if attn_mask is not None:
                m = attn_mask if attn_mask.dim() == 2 else attn_mask.view(B, H, L, S)[:, h]
                extra = extra + (torch.where(m, float("-inf"), 0.0) if m.dtype == torch.bool else m)
            if key_padding_mask is not None:
                m = key_padding_mask[:, None, :]
                extra = extra + (torch.where(m, float("-inf"), 0.0) if m.dtype == torch.bool else m)
            o, w = scaled_dot_product_attention(Q[..., sl], K[..., sl], V[..., sl], mask=extra)
            outs.append(o)
            weights.append(w)
        out = self.out_proj(torch.cat(outs, dim=-1))
        if not need_weights:
            return out, None
        return out, torch.stack(weights).mean(dim=0)
