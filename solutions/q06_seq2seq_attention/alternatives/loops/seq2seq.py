"""Alternative solution for q06_seq2seq_attention: per-sequence encoder loop (no packing), a
hand-written masked softmax, and a Luong-style decoder (attend with the *new* state)."""

from __future__ import annotations

import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self, vocab_size, emb_dim, hidden_dim):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        self.rnn = nn.GRU(emb_dim, hidden_dim, batch_first=True)
        self.hidden_dim = hidden_dim

    def forward(self, src, src_lengths):
        B, S = src.shape
        emb = self.embedding(src)
        h = torch.zeros(1, B, self.hidden_dim)
        outputs = []
        for t in range(S):                      # one GRU step at a time; freeze finished sequences
            out, h_new = self.rnn(emb[:, t:t + 1], h)
            alive = (t < src_lengths).view(1, B, 1)
            h = torch.where(alive, h_new, h)
            outputs.append(out[:, 0] * alive[0])
        return torch.stack(outputs, dim=1), h


class AdditiveAttention(nn.Module):
    def __init__(self, hidden_dim):
        super().__init__()
        self.W_q = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.W_k = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.v = nn.Linear(hidden_dim, 1, bias=False)

    def forward(self, query, keys, mask=None):
        B, S, H = keys.shape
        energy = torch.tanh(self.W_k(keys) + self.W_q(query)[:, None, :])
        scores = (energy @ self.v.weight[0])                         # [B, S]
        allowed = torch.ones(B, S, dtype=torch.bool) if mask is None else mask.bool()
        big = scores.masked_fill(~allowed, -1e30).max(dim=1, keepdim=True).values
        e = torch.exp(scores - big) * allowed                        # 0 on padding
        weights = e / e.sum(dim=1, keepdim=True)
        context = (weights[:, :, None] * keys).sum(dim=1)
        return context, weights


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab, tgt_vocab, emb_dim, hidden_dim):
        super().__init__()
        self.encoder = Encoder(src_vocab, emb_dim, hidden_dim)
        self.attention = AdditiveAttention(hidden_dim)
        self.emb = nn.Embedding(tgt_vocab, emb_dim, padding_idx=0)
        self.cell = nn.GRU(emb_dim, hidden_dim, batch_first=True)
        self.combine = nn.Linear(2 * hidden_dim, hidden_dim)
        self.proj = nn.Linear(hidden_dim, tgt_vocab)

    def _start(self, src, src_lengths):
        keys, h = self.encoder(src, src_lengths)
        mask = torch.stack([torch.arange(src.shape[1]) < int(n) for n in src_lengths])
        return keys, mask, h

    def _step(self, tok, h, keys, mask):
        out, h = self.cell(self.emb(tok)[:, None, :], h)           # new state first (Luong)
        ctx, _ = self.attention(out[:, 0], keys, mask)
        return self.proj(torch.tanh(self.combine(torch.cat([out[:, 0], ctx], dim=-1)))), h

    def forward(self, src, src_lengths, tgt_in):
        keys, mask, h = self._start(src, src_lengths)
        steps = []
        for t in range(tgt_in.shape[1]):
            logit, h = self._step(tgt_in[:, t], h, keys, mask)
            steps.append(logit)
        return torch.stack(steps, dim=1)

    def greedy_decode(self, src, src_lengths, bos, eos, max_len):
        with torch.no_grad():
            keys, mask, h = self._start(src, src_lengths)
            B = src.shape[0]
            out = torch.zeros(B, max_len, dtype=torch.long)
            done = [False] * B
            tok = torch.full((B,), bos, dtype=torch.long)
            length = 0
            for t in range(max_len):
                logit, h = self._step(tok, h, keys, mask)
                tok = logit.argmax(-1)
                length = t + 1
                for b in range(B):
                    if not done[b]:
                        out[b, t] = tok[b]
                        done[b] = int(tok[b]) == eos
                if all(done):
                    break
            return out[:, :length]


def train_reverse(seed=0):
    import helpers

    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = Seq2Seq(helpers.VOCAB_SIZE, helpers.VOCAB_SIZE, 32, 64)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    for step in range(160):                     # a fresh random batch every step
        d = helpers.make_reversal_data(64, seed=int(torch.randint(0, 10**9, (1,), generator=g)))
        logits = model(d["src"], d["src_lengths"], d["tgt_in"])
        loss = nn.functional.cross_entropy(logits.transpose(1, 2), d["tgt_out"], ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model
