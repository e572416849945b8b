"""A BERT sentence classifier (fill in the bodies)."""

from __future__ import annotations

import torch
from torch import nn


class BertClassifier(nn.Module):
    """BERT encoder + dropout + linear head on the pooled [CLS] output.

    Attributes (names are part of the interface):
        bert:       a ``transformers.BertModel`` built from ``transformers.BertConfig(**config)``
                    (with its pooling layer).
        dropout:    a ``torch.nn.Dropout`` with probability ``dropout``.
        classifier: a ``torch.nn.Linear(hidden_size, num_labels)``.
    """

    def __init__(self, config: dict, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> dict:
        """Classify a batch of token-id sequences.

        Args:
            input_ids: LongTensor [B, L].
            attention_mask: LongTensor [B, L], 1 for real tokens and 0 for padding (None: all 1).
            token_type_ids: LongTensor [B, L] segment ids (None: all 0).
            labels: LongTensor [B] of class ids, or None.

        Returns:
            ``{"logits": FloatTensor [B, num_labels]}``, plus ``"loss"`` (a scalar tensor, the mean
            cross-entropy of the logits against ``labels``) when labels are given.
        """
        raise NotImplementedError
