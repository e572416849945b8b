"""Linear-chain CRF decoding and likelihood, BIO spans and span F1. See README.md for the conventions.

Score of a tag path y_0..y_{T-1}:
    start[y_0] + sum_t emissions[t, y_t] + sum_{t>0} transitions[y_{t-1}, y_t] + end[y_{T-1}]
"""

from __future__ import annotations

import torch


def viterbi_decode(emissions: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
                   end: torch.Tensor) -> tuple[list[int], float]:
    """Best path (list of T Python ints) and its score (Python float) for emissions [T, K].

    Among equally good paths, return the lexicographically smallest."""
    raise NotImplementedError


def viterbi_decode_batch(emissions: torch.Tensor, mask: torch.Tensor, transitions: torch.Tensor,
                         start: torch.Tensor, end: torch.Tensor) -> list[list[int]]:
    """Best path of each sequence of emissions [B, T, K]; mask [B, T] (bool or 0/1) marks the
    real positions, a prefix of each row (at least one). Paths have the unmasked length."""
    raise NotImplementedError


def crf_log_partition(emissions: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
                      end: torch.Tensor) -> torch.Tensor:
    """log sum over all paths of exp(score): 0-dim for [T, K] emissions, [B] for [B, T, K]."""
    raise NotImplementedError


def crf_nll(emissions: torch.Tensor, tags: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
            end: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood log Z - score(tags): tags [T] with emissions [T, K] (0-dim result),
    or tags [B, T] with emissions [B, T, K] (result [B])."""
    raise NotImplementedError


def bio_to_spans(tags: list[str]) -> list[tuple[str, int, int]]:
    """Chunks (type, start, end) of a BIO tag sequence, end exclusive, by the conlleval rules."""
    raise NotImplementedError


def span_f1(true_tags, pred_tags) -> dict:
    """{"precision", "recall", "f1"} (Python floats), micro-averaged over exactly matching spans.

    Takes one sequence (list of str) each, or a batch (list of lists of str) each."""
    raise NotImplementedError
