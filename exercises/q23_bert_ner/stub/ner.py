"""Named-entity recognition with BERT (fill in the bodies)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def align_labels_with_tokens(word_ids: Sequence[int | None], word_labels: Sequence[int],
                             label_all_subtokens: bool = False, ignore_index: int = -100) -> list[int]:
    """Spread word-level labels over sub-tokens.

    Args:
        word_ids: for each token, the index of the word it belongs to, or None for special tokens
            ([CLS], [SEP], [PAD]), as returned by a fast tokenizer's ``word_ids()``.
        word_labels: one label id per word.
        label_all_subtokens: if True, every sub-token of a word gets the word's label; if False
            only the first sub-token does and the others get ``ignore_index``.
        ignore_index: the label of tokens the loss must skip.

    Returns:
        A list of Python ints, one per token.
    """
    raise NotImplementedError


class BertTokenClassifier(nn.Module):
    """BERT encoder + dropout + linear layer on every token.

    Attributes: ``bert`` (``transformers.BertModel`` from ``BertConfig(**config)``, without pooling
    layer), ``dropout`` (``nn.Dropout(dropout)``), ``classifier`` (``nn.Linear(hidden_size, num_labels)``).
    """

    def __init__(self, config: dict, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        raise NotImplementedError

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> dict:
        """Returns ``{"logits": [B, L, num_labels]}`` plus ``"loss"`` when ``labels`` ([B, L]) are given:
        the mean cross-entropy over the positions whose label is not -100."""
        raise NotImplementedError


def decode_entities(pred_label_ids, word_ids: Sequence[int | None], id2label: dict) -> list[tuple[str, int, int]]:
    """Word-level BIO decoding of token predictions.

    Args:
        pred_label_ids: predicted label id per token (a list of ints or a 1-D LongTensor).
        word_ids: as in ``align_labels_with_tokens``.
        id2label: label id -> tag, tags being "O", "B-<TYPE>" or "I-<TYPE>".

    Returns:
        ``[(type, start_word, end_word), ...]`` with ``end_word`` exclusive, in order.
    """
    raise NotImplementedError
