"""Reference solution: a BERT encoder with a classification head on the pooled [CLS] output.

This is exactly the architecture of ``transformers.BertForSequenceClassification`` (single-label
case): BERT -> pooler (dense + tanh on the [CLS] hidden state) -> dropout -> linear layer.
Because the attribute names (``bert``, ``classifier``) match the library's, the state dict of a
``BertForSequenceClassification`` loads into this module unchanged.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BertConfig, BertModel


class BertClassifier(nn.Module):
    def __init__(self, config: dict, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.num_labels = num_labels
        # The encoder, built from a config dict (no download); keep the pooling layer, which
        # maps the final [CLS] hidden state through dense + tanh.
        self.bert = BertModel(BertConfig(**config), add_pooling_layer=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.bert.config.hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> dict:
        # attention_mask: 1 for real tokens, 0 for padding; BERT turns it into an additive mask
        # so that no token attends to padding.
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        pooled = out.pooler_output                      # [B, H]: tanh(W h_[CLS] + b)
        logits = self.classifier(self.dropout(pooled))  # [B, num_labels]
        result = {"logits": logits}
        if labels is not None:
            # Cross-entropy on raw logits (log-softmax is done inside, numerically stable).
            result["loss"] = nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))
        return result
