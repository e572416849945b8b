"""Reference solution for q06_seq2seq_attention: a GRU encoder-decoder with additive (Bahdanau)
attention, greedy decoding, and training on the sequence-reversal task of helpers.py.

Shapes: B batch, S source length, T target length, E embedding size, H hidden size, V vocabulary.
Padding id is 0 everywhere, padding is at the end of each sequence.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PAD = 0


class Encoder(nn.Module):
    """Embedding + one-layer unidirectional GRU over the real tokens only (packed sequences)."""

    def __init__(self, vocab_size: int, emb_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = nn.GRU(emb_dim, hidden_dim, batch_first=True)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        S = src.shape[1]
        emb = self.embedding(src)                                             # [B, S, E]
        # Packing makes the GRU stop at each sequence's last real token: the final hidden state
        # does not see the padding, and the outputs at padded positions are zeros.
        outputs, hidden = self.rnn(emb)                                       # runs over the padding too
        return outputs, hidden                                                # hidden [1, B, H]


class AdditiveAttention(nn.Module):
    """score(q, k_s) = v^T tanh(W_q q + W_k k_s); softmax over the unmasked positions."""

    def __init__(self, hidden_dim: int) -> None:
        super().__init__()
        self.W_q = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.W_k = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.v = nn.Linear(hidden_dim, 1, bias=False)

    def forward(self, query: torch.Tensor, keys: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        # query [B, H] is broadcast over the S key positions.
        scores = self.v(torch.tanh(self.W_q(query).unsqueeze(1) + self.W_k(keys))).squeeze(-1)   # [B, S]
        if mask is not None:
            # True = real token. -inf before the softmax gives exactly 0 weight to padding.
            scores = scores.masked_fill(~mask.bool(), float("-inf"))
        weights = torch.softmax(scores, dim=-1)                                # [B, S], rows sum to 1
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)             # [B, H]
        return context, weights


class Seq2Seq(nn.Module):
    """Encoder, attention and a GRU-cell decoder.

    Decoder step t (teacher forcing: y_{t-1} = tgt_in[:, t]):
        c_t = attention(s_{t-1}, encoder outputs, source mask)
        s_t = GRUCell([emb(y_{t-1}); c_t], s_{t-1})          s_0 = final encoder state
        logits_t = Linear([s_t; c_t])
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, emb_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.encoder = Encoder(src_vocab, emb_dim, hidden_dim)
        self.attention = AdditiveAttention(hidden_dim)
        self.tgt_embedding = nn.Embedding(tgt_vocab, emb_dim, padding_idx=PAD)
        self.decoder = nn.GRUCell(emb_dim + hidden_dim, hidden_dim)
        self.out = nn.Linear(2 * hidden_dim, tgt_vocab)

    def encode(self, src, src_lengths):
        keys, hidden = self.encoder(src, src_lengths)
        mask = torch.arange(src.shape[1], device=src.device)[None, :] < src_lengths.to(src.device)[:, None]
        return keys, mask, hidden[0]

    def step(self, y_prev, state, keys, mask):
        """One decoder step: previous tokens [B], previous state [B, H] -> (logits [B, V], new state)."""
        context, _ = self.attention(state, keys, mask)
        state = self.decoder(torch.cat([self.tgt_embedding(y_prev), context], dim=-1), state)
        return self.out(torch.cat([state, context], dim=-1)), state

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        keys, mask, state = self.encode(src, src_lengths)
        logits = []
        for t in range(tgt_in.shape[1]):          # the decoder is causal: step t sees tgt_in[:, :t+1]
            step_logits, state = self.step(tgt_in[:, t], state, keys, mask)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)          # [B, T, V]

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_lengths: torch.Tensor, bos: int, eos: int,
                      max_len: int) -> torch.Tensor:
        keys, mask, state = self.encode(src, src_lengths)
        B = src.shape[0]
        y = torch.full((B,), bos, dtype=torch.long, device=src.device)
        finished = torch.zeros(B, dtype=torch.bool, device=src.device)
        tokens = []
        for _ in range(max_len):
            logits, state = self.step(y, state, keys, mask)
            y = logits.argmax(dim=-1)                        # feed back our own prediction
            tokens.append(y.masked_fill(finished, PAD))      # PAD after a sequence's EOS
            finished |= y == eos
            if bool(finished.all()):
                break
        if not tokens:
            return torch.zeros(B, 0, dtype=torch.long, device=src.device)
        return torch.stack(tokens, dim=1)                    # [B, L], L <= max_len


def train_reverse(seed: int = 0) -> Seq2Seq:
    """Train a small Seq2Seq on the reversal task (teacher forcing, cross-entropy ignoring PAD)."""
    import helpers

    torch.manual_seed(seed)
    model = Seq2Seq(helpers.VOCAB_SIZE, helpers.VOCAB_SIZE, emb_dim=32, hidden_dim=64)
    data = helpers.make_reversal_data(4000, seed=seed)  # 4000 random sequences of 3..8 symbols
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    n, batch = data["src"].shape[0], 64
    model.train()
    for _ in range(3):                         # 3 epochs of 63 batches: about 10 s on one core
        perm = torch.randperm(n)
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            logits = model(data["src"][idx], data["src_lengths"][idx], data["tgt_in"][idx])
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), data["tgt_out"][idx].reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    model.eval()
    return model

