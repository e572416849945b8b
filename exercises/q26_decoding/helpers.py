"""Public helpers for q26_decoding: a toy language model and a sampling counter.

Your code must only use ``model.next_logits(prefix)`` and ``model.vocab_size``.
"""

from __future__ import annotations

import torch


class ToyLM:
    """Next-token logits looked up in a table indexed by the last two tokens of the prefix.

    ``table`` may be given explicitly: shape (V,) (same logits everywhere), (V, V) (indexed by the
    last token) or (V, V, V) (indexed by the second-to-last, then the last token). Otherwise a random
    (V, V, V) table is drawn from ``seed`` with standard deviation ``scale``, plus a random
    position-dependent term (so that different sequences almost never tie).
    """

    def __init__(self, vocab_size: int = 6, seed: int = 0, scale: float = 2.0, table: torch.Tensor | None = None) -> None:
        self.position = None
        if table is None:
            g = torch.Generator().manual_seed(seed)
            table = torch.randn(vocab_size, vocab_size, vocab_size, generator=g) * scale
            self.position = torch.randn(16, vocab_size, generator=g) * scale * 0.5
        self.table = table.to(torch.float32)
        self.vocab_size = int(self.table.shape[-1])
        self.calls = 0

    def next_logits(self, prefix) -> torch.Tensor:
        """Logits (float32, shape (V,)) of the token that follows ``prefix`` (a non-empty list of ints)."""
        self.calls += 1
        tokens = [int(t) for t in prefix]
        if not tokens:
            raise ValueError("the prefix must hold at least the bos token")
        if self.table.dim() == 1:
            return self.table.clone()
        if self.table.dim() == 2:
            return self.table[tokens[-1]].clone()
        prev = tokens[-2] if len(tokens) >= 2 else tokens[-1]
        logits = self.table[prev, tokens[-1]].clone()
        if self.position is not None:
            logits = logits + self.position[(len(tokens) - 1) % self.position.shape[0]]
        return logits


def first_token_counts(sample_fn, model, bos: int, eos: int, n: int, seed: int, **kwargs) -> torch.Tensor:
    """Run ``sample_fn(model, bos, eos, 1, generator=g, **kwargs)`` n times with one seeded generator;
    count the generated (first) tokens. Returns an int64 tensor of shape (V,)."""
    g = torch.Generator().manual_seed(seed)
    counts = torch.zeros(model.vocab_size, dtype=torch.long)
    for _ in range(n):
        seq = sample_fn(model, bos, eos, 1, generator=g, **kwargs)
        counts[int(seq[1])] += 1
    return counts
