"""Public helpers for q06_seq2seq_attention: the sequence-reversal task.

Token ids: PAD = 0, BOS = 1, EOS = 2, and the symbols 3 .. VOCAB_SIZE - 1. A source sequence is a
random string of MIN_LEN .. MAX_LEN symbols; its target is the same symbols in reverse order.
Deterministic given a seed; nothing is downloaded.
"""

import torch

PAD, BOS, EOS = 0, 1, 2
VOCAB_SIZE = 12          # 9 symbols: ids 3 .. 11
MIN_LEN, MAX_LEN = 3, 8


def pad_batch(seqs, pad=PAD):
    """A list of 1-D LongTensors -> (LongTensor [B, max_len] padded with ``pad`` at the end, lengths [B])."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.full((len(seqs), int(lengths.max())), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = s
    return out, lengths


def make_reversal_data(n, seed=0, min_len=MIN_LEN, max_len=MAX_LEN, vocab_size=VOCAB_SIZE):
    """``n`` random reversal examples, as a dict of LongTensors:

    * ``src`` [n, S] symbols padded with PAD at the end, ``src_lengths`` [n];
    * ``tgt_in`` [n, S + 1] = BOS followed by the reversed symbols (decoder input, teacher forcing);
    * ``tgt_out`` [n, S + 1] = the reversed symbols followed by EOS (what the decoder must predict);
      both padded with PAD at the end (so PAD positions of ``tgt_out`` can be ignored in the loss).
    """
    g = torch.Generator().manual_seed(int(seed))
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=g)
    seqs = [torch.randint(3, vocab_size, (int(k),), generator=g) for k in lengths]
    src, src_lengths = pad_batch(seqs)
    tgt_in, _ = pad_batch([torch.cat([torch.tensor([BOS]), s.flip(0)]) for s in seqs])
    tgt_out, _ = pad_batch([torch.cat([s.flip(0), torch.tensor([EOS])]) for s in seqs])
    return {"src": src, "src_lengths": src_lengths, "tgt_in": tgt_in, "tgt_out": tgt_out}


def token_accuracy(decoded, src, src_lengths):
    """Fraction of the real source tokens that ``decoded`` [B, L] reproduces in reversed order
    (position i of sequence b must be src[b, len_b - 1 - i]; missing positions count as wrong)."""
    correct, total = 0, 0
    for b in range(src.shape[0]):
        n = int(src_lengths[b])
        target = src[b, :n].flip(0)
        got = decoded[b, :n]
        correct += int((got == target[:got.shape[0]]).sum())
        total += n
    return correct / total
