"""Reference solution: named-entity recognition with BERT (token classification).

Three pieces of a NER pipeline on top of BERT:

* ``align_labels_with_tokens``: WordPiece splits words into sub-tokens, but NER labels are per
  word. Only the first sub-token of each word carries the word's label; the other sub-tokens and
  the special tokens ([CLS], [SEP], padding) get ``ignore_index`` so that the loss skips them.
* ``BertTokenClassifier``: BERT -> dropout -> linear layer on every token (the architecture of
  ``transformers.BertForTokenClassification``), cross-entropy that ignores label -100.
* ``decode_entities``: turn per-token predictions back into word-level BIO spans.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from transformers import BertConfig, BertModel


def _first_subtokens(word_ids: Sequence[int | None]) -> list[bool]:
    """True at tokens that start a word: a word id that differs from the previous token's."""
    flags, previous = [], None
    for wid in word_ids:
        flags.append(wid is not None and wid != previous)
        previous = wid
    return flags


def align_labels_with_tokens(word_ids: Sequence[int | None], word_labels: Sequence[int],
                             label_all_subtokens: bool = False, ignore_index: int = -100) -> list[int]:
    labels = []
    for wid, first in zip(word_ids, _first_subtokens(word_ids)):
        if wid is None:                       # [CLS], [SEP], [PAD]: no label
            labels.append(int(ignore_index))
        elif first or label_all_subtokens:    # first sub-token (or all of them when asked)
            labels.append(int(word_labels[wid]))
        else:                                 # continuation sub-token: ignored by the loss
            labels.append(int(ignore_index))
    return labels


class BertTokenClassifier(nn.Module):
    def __init__(self, config: dict, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.num_labels = num_labels
        # Token classification uses every hidden state, so BERT's pooler is not needed
        # (BertForTokenClassification builds BertModel with add_pooling_layer=False).
        self.bert = BertModel(BertConfig(**config), add_pooling_layer=False)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.bert.config.hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> dict:
        hidden = self.bert(input_ids=input_ids, token_type_ids=token_type_ids).last_hidden_state      # [B, L, H]
        logits = self.classifier(self.dropout(hidden))                          # [B, L, C]
        out = {"logits": logits}
        if labels is not None:
            # Flatten tokens; positions labelled -100 (special tokens, continuation sub-tokens,
            # padding) do not count in the mean.
            out["loss"] = nn.functional.cross_entropy(logits.reshape(-1, self.num_labels), labels.reshape(-1),
                                                      ignore_index=-100)
        return out


def decode_entities(pred_label_ids, word_ids: Sequence[int | None], id2label: dict) -> list[tuple[str, int, int]]:
    if isinstance(pred_label_ids, torch.Tensor):
        pred_label_ids = pred_label_ids.tolist()
    # One tag per word: the prediction at the word's first sub-token.
    words: list[tuple[int, str]] = []
    for pred, wid, first in zip(pred_label_ids, word_ids, _first_subtokens(word_ids)):
        if first:
            words.append((wid, id2label[int(pred)]))

    entities: list[tuple[str, int, int]] = []
    current: list | None = None          # [type, start, end]
    for wid, tag in words:
        prefix, _, kind = tag.partition("-")
        if prefix == "B" or (prefix == "I" and (current is None or current[0] != kind)):
            # B- always opens an entity; an I- that does not continue one opens one too.
            if current is not None:
                entities.append(tuple(current))
            current = [kind, wid, wid + 1]
        elif prefix == "I":
            current[2] = wid + 1             # continue the open entity of the same type
        else:                                # "O" closes any open entity
            if current is not None:
                entities.append(tuple(current))
            current = None
    if current is not None:
        entities.append(tuple(current))
    return entities
