"""Reference solution for q21: a small Transformer encoder for text classification."""
from __future__ import annotations

import math

import torch
from torch import nn

import helpers


def sinusoidal_positional_encoding(max_len: int, d_model: int) -> torch.Tensor:
    """PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), PE[pos, 2i+1] = cos(same angle)."""
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)          # [L, 1]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)               # 0, 2, 4, ...
    angle = pos / torch.pow(10000.0, two_i / d_model)                     # [L, ceil(d/2)]
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])                     # odd d_model: one sin more
    return pe.to(torch.float32)


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size: int, d_model: int, nhead: int, num_layers: int, num_classes: int,
                 max_len: int, pad_id: int = 0) -> None:
        super().__init__()
        self.d_model = d_model
        self.pad_id = pad_id
        self.embedding = nn.Embedding(vocab_size, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model, dropout=0.1,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.classifier = nn.Linear(d_model, num_classes)
        # a fixed table, not a parameter and not part of the state dict
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model), persistent=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        L = input_ids.shape[1]
        real = input_ids != self.pad_id                                    # True on real tokens
        x = self.embedding(input_ids) * math.sqrt(self.d_model) + self.pe[:L]
        # key padding mask: True marks positions attention must ignore (the padding)
        h = self.encoder(x, src_key_padding_mask=~real)
        # mean over real tokens only, so the result does not depend on how much padding follows
        w = real.unsqueeze(-1).to(h.dtype)
        pooled = (h * w).sum(1) / w.sum(1).clamp_min(1.0)
        return self.classifier(pooled)


def train_classifier(seed: int) -> TransformerClassifier:
    """Train on helpers.make_toy_task and return the model in eval mode."""
    torch.manual_seed(seed)
    x, y = helpers.make_toy_task(1500, seed)
    model = TransformerClassifier(helpers.VOCAB_SIZE, 32, 4, 1, helpers.NUM_CLASSES, helpers.MAX_LEN,
                                  helpers.PAD_ID)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _epoch in range(4):
        perm = torch.randperm(len(x))
        for start in range(0, len(x), 64):
            idx = perm[start:start + 64]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    model.eval()
    return model
