"""q21: text classification with a Transformer encoder. Fill in the bodies."""
from __future__ import annotations

import torch
from torch import nn

import helpers  # the toy task: helpers.make_toy_task, VOCAB_SIZE, MAX_LEN, NUM_CLASSES, PAD_ID


def sinusoidal_positional_encoding(max_len: int, d_model: int) -> torch.Tensor:
    """Float32 tensor [max_len, d_model]: PE[pos, 2i] = sin(pos / 10000^(2i/d_model)),
    PE[pos, 2i+1] = cos(pos / 10000^(2i/d_model)). With an odd d_model the last column is a sine."""
    raise NotImplementedError


class TransformerClassifier(nn.Module):
    """Embedding * sqrt(d_model) + positional encoding -> nn.TransformerEncoder (padding mask)
    -> mean over real tokens -> Linear. Submodules: ``embedding``, ``encoder``, ``classifier``;
    the positional encoding is a non-persistent buffer."""

    def __init__(self, vocab_size: int, d_model: int, nhead: int, num_layers: int, num_classes: int,
                 max_len: int, pad_id: int = 0) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """input_ids LongTensor[B, L] (L <= max_len, padded with pad_id) -> logits [B, num_classes]."""
        raise NotImplementedError


def train_classifier(seed: int) -> TransformerClassifier:
    """Train a TransformerClassifier on data from helpers.make_toy_task and return it in eval mode."""
    raise NotImplementedError
