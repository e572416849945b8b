"""Public helpers for q21: a toy "sentiment" task on token ids.

Vocabulary (VOCAB_SIZE = 20): 0 is padding, 1-5 are positive words, 6-10 negative words,
11-19 neutral words. Each sequence has between MIN_LEN and MAX_LEN real tokens followed by
padding up to MAX_LEN; it contains 1 to 3 sentiment words, all of the same polarity, at random
places among neutral words. The label is 1 for positive words, 0 for negative ones.
"""
from __future__ import annotations

import torch

VOCAB_SIZE = 20
PAD_ID = 0
MIN_LEN = 3
MAX_LEN = 16
NUM_CLASSES = 2
POSITIVE = list(range(1, 6))
NEGATIVE = list(range(6, 11))
NEUTRAL = list(range(11, 20))


def make_toy_task(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` examples: (input_ids LongTensor[n, MAX_LEN] padded with PAD_ID, labels LongTensor[n]).

    Deterministic given ``seed``; does not touch the global random state.
    """
    g = torch.Generator().manual_seed(int(seed))
    ids = torch.full((n, MAX_LEN), PAD_ID, dtype=torch.long)
    labels = torch.zeros(n, dtype=torch.long)
    pos_t, neg_t, neu_t = torch.tensor(POSITIVE), torch.tensor(NEGATIVE), torch.tensor(NEUTRAL)
    for i in range(n):
        length = int(torch.randint(MIN_LEN, MAX_LEN + 1, (1,), generator=g))
        k = int(torch.randint(1, 4, (1,), generator=g))
        label = int(torch.randint(0, 2, (1,), generator=g))
        table = pos_t if label == 1 else neg_t
        words = torch.cat([
            table[torch.randint(0, len(table), (k,), generator=g)],
            neu_t[torch.randint(0, len(NEUTRAL), (length - k,), generator=g)],
        ])
        words = words[torch.randperm(length, generator=g)]
        ids[i, :length] = words
        labels[i] = label
    return ids, labels
