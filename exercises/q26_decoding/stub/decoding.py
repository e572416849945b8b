"""Decoding strategies for a next-token model.

`model` is any object with `model.next_logits(prefix: list[int]) -> Tensor[V]` (logits of the
next token) and `model.vocab_size`; the tests use `helpers.ToyLM`. Sequences start with `bos`,
include `eos` when it is produced, and `max_len` counts generated tokens (bos not counted).
"""

from __future__ import annotations

import torch


def greedy_decode(model, bos: int, eos: int, max_len: int) -> list[int]:
    """Append the argmax token (ties: lowest index) until eos is produced or max_len tokens are generated."""
    raise NotImplementedError


def beam_search(model, bos: int, eos: int, beam_size: int, max_len: int,
                length_penalty: float = 1.0) -> list[tuple[list[int], float]]:
    """Beam search over summed log-probabilities (log_softmax of the logits).

    At each step keep the best `beam_size` of all beam x vocabulary extensions; an extension ending
    in eos moves to the finished list (the beam shrinks). After max_len steps live hypotheses count
    as finished. Return the best `beam_size` finished hypotheses as (sequence, score) with
    score = log-probability / (generated tokens) ** length_penalty, best first.
    """
    raise NotImplementedError


def top_k_top_p_filter(logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    """Set filtered logits to -inf (along the last dimension), top-k first, then top-p. Returns a new tensor."""
    raise NotImplementedError


def sample(model, bos: int, eos: int, max_len: int, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, generator: torch.Generator | None = None) -> list[int]:
    """Ancestral sampling from softmax(top_k_top_p_filter(logits / temperature)), drawing with `generator`."""
    raise NotImplementedError
