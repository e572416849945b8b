"""Alternative: index-based loops, BertForTokenClassification-free head, NLL with a mask."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import BertConfig, BertModel


def align_labels_with_tokens(word_ids, word_labels, label_all_subtokens=False, ignore_index=-100):
    out = []
    for i in range(len(word_ids)):
        w = word_ids[i]
        if w is None:
            out.append(ignore_index)
            continue
        starts_word = i == 0 or word_ids[i - 1] != w
        out.append(word_labels[w] if (starts_word or label_all_subtokens) else ignore_index)
    return [int(x) for x in out]


class BertTokenClassifier(nn.Module):
    def __init__(self, config, num_labels, dropout=0.1):
        super().__init__()
        cfg = BertConfig(**config)
        self.bert = BertModel(cfg, add_pooling_layer=False)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(cfg.hidden_size, num_labels)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        h = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
        logits = self.classifier(self.dropout(h))
        result = {"logits": logits}
        if labels is not None:
            keep = labels != -100
            logp = F.log_softmax(logits, dim=-1)
            picked = logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            result["loss"] = -(picked * keep).sum() / keep.sum()
        return result


def decode_entities(pred_label_ids, word_ids, id2label):
    preds = [int(p) for p in pred_label_ids]
    ents = []
    cur_type, cur_start, cur_end = None, None, None
    firsts = [(i, w) for i, w in enumerate(word_ids) if w is not None and (i == 0 or word_ids[i - 1] != w)]
    for i, w in firsts:
        tag = id2label[preds[i]]
        if tag == "O":
            if cur_type is not None:
                ents.append((cur_type, cur_start, cur_end))
            cur_type = None
            continue
        p, t = tag.split("-", 1)
        if p == "I" and cur_type == t:
            cur_end = w + 1
        else:
            if cur_type is not None:
                ents.append((cur_type, cur_start, cur_end))
            cur_type, cur_start, cur_end = t, w, w + 1
    if cur_type is not None:
        ents.append((cur_type, cur_start, cur_end))
    return ents
