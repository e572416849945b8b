"""Alternative: take the last hidden state and apply BERT's pooler by hand; log-softmax + NLL."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import transformers


class BertClassifier(nn.Module):
    def __init__(self, config, num_labels, dropout=0.1):
        super().__init__()
        self.bert = transformers.BertModel(transformers.BertConfig(**config))
        self.dropout = nn.Dropout(p=dropout)
        self.classifier = nn.Linear(config["hidden_size"], num_labels)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        hidden = self.bert(input_ids, attention_mask, token_type_ids).last_hidden_state
        cls = hidden[:, 0]
        pooled = torch.tanh(self.bert.pooler.dense(cls))
        logits = self.classifier(self.dropout(pooled))
        out = {"logits": logits}
        if labels is not None:
            logp = F.log_softmax(logits, dim=-1)
            out["loss"] = -logp.gather(1, labels.long().unsqueeze(1)).mean()
        return out
