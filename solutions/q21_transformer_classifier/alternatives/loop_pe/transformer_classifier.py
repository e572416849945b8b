"""Alternative q21 solution: PE by explicit loops, pooling by masked_fill, AdamW training."""
import math

import torch
from torch import nn

import helpers


def sinusoidal_positional_encoding(max_len, d_model):
    rows = []
    for pos in range(max_len):
        row = []
        for j in range(d_model):
            i2 = j - (j % 2)                       # the even index of this column's pair
            angle = pos / (10000 ** (i2 / d_model))
            row.append(math.sin(angle) if j % 2 == 0 else math.cos(angle))
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float32).reshape(max_len, d_model)


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, d_model, nhead, num_layers, num_classes, max_len, pad_id=0):
        super().__init__()
        self.scale = math.sqrt(d_model)
        self.pad_id = pad_id
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d_model=d_model, nhead=nhead, dim_feedforward=d_model * 4,
                                       dropout=0.1, batch_first=True),
            num_layers=num_layers)
        self.classifier = nn.Linear(d_model, num_classes)
        self.register_buffer("positions", sinusoidal_positional_encoding(max_len, d_model), persistent=False)

    def forward(self, input_ids):
        pad = input_ids.eq(self.pad_id)
        h = self.embedding(input_ids) * self.scale + self.positions[: input_ids.size(1)].unsqueeze(0)
        h = self.encoder(h, src_key_padding_mask=pad)
        h = h.masked_fill(pad.unsqueeze(-1), 0.0)
        counts = (~pad).sum(dim=1, keepdim=True).to(h.dtype)
        return self.classifier(h.sum(dim=1) / counts)


def train_classifier(seed):
    torch.manual_seed(seed)
    ids, labels = helpers.make_toy_task(1200, seed + 1)
    model = TransformerClassifier(helpers.VOCAB_SIZE, 32, 2, 1, helpers.NUM_CLASSES, helpers.MAX_LEN, helpers.PAD_ID)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(ids, labels), batch_size=50, shuffle=True)
    model.train()
    for _ in range(4):
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    return model.eval()
