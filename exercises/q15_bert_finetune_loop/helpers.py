"""Public helpers for q15_bert_finetune_loop: the shipped vocabulary, a tiny BERT classifier, a
synthetic sentiment task, batching, and small probes used by the tests. No downloads; seeded.

The text task: a sentence of neutral filler words containing one or two sentiment words of the
same polarity; label 1 for positive words, 0 for negative ones.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
from torch import nn

VOCAB_FILE = Path(__file__).resolve().parent / "vocab.txt"
TOKENS = VOCAB_FILE.read_text().split()
POSITIVE = "good great excellent wonderful love best happy fun brilliant enjoyable".split()
NEGATIVE = "bad terrible awful boring hate worst sad poor dull annoying".split()
NEUTRAL = [t for t in TOKENS if t.isalpha() and t not in POSITIVE and t not in NEGATIVE]


def make_tokenizer():
    """A lower-casing ``transformers.BertTokenizer`` built from ``vocab.txt``."""
    from transformers import BertTokenizer

    return BertTokenizer(vocab={tok: i for i, tok in enumerate(TOKENS)}, do_lower_case=True)


def make_model(num_labels: int = 2, seed: int = 0, dropout: float = 0.1):
    """A tiny randomly initialised ``BertForSequenceClassification`` (deterministic given ``seed``,
    the global RNG is left untouched), returned in train mode."""
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=len(TOKENS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, num_labels=num_labels,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = BertForSequenceClassification(config)
    finally:
        torch.random.set_rng_state(state)
    model.train()
    return model


def make_texts(n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """``n`` sentences and their labels (1 positive, 0 negative), balanced at random."""
    r = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        label = r.randint(0, 1)
        words = [r.choice(NEUTRAL) for _ in range(r.randint(3, 9))]
        for _ in range(r.randint(1, 2)):
            words.insert(r.randint(0, len(words)), r.choice(POSITIVE if label else NEGATIVE))
        text = " ".join(words)
        if r.random() < 0.5:
            text += r.choice([" .", " !", " ?"])
        texts.append(text)
        labels.append(label)
    return texts, labels


def make_batches(texts, labels, batch_size: int = 32, tokenizer=None) -> list[dict]:
    """Tokenise and cut into batches: a list of dicts with ``input_ids``, ``attention_mask`` [b, L]
    (padded per batch with [PAD] = 0) and ``labels`` [b] (all int64). The last batch may be smaller."""
    tokenizer = tokenizer or make_tokenizer()
    batches = []
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(list(texts[start:start + batch_size]), padding=True, return_tensors="pt")
        batches.append({"input_ids": enc["input_ids"].long(), "attention_mask": enc["attention_mask"].long(),
                        "labels": torch.tensor(labels[start:start + batch_size], dtype=torch.long)})
    return batches


def make_task(n: int, seed: int = 0, batch_size: int = 32) -> list[dict]:
    """``make_batches(*make_texts(n, seed), batch_size)``."""
    return make_batches(*make_texts(n, seed), batch_size=batch_size)


@torch.no_grad()
def predict(model, batches) -> torch.Tensor:
    """Predicted labels of all examples of ``batches`` (eval mode, no gradients), int64 [N]."""
    model.eval()
    return torch.cat([model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits.argmax(-1)
                      for b in batches])


def make_sgd(model, lr: float = 0.1, bias_lr: float | None = None):
    """Plain SGD over all parameters: one group, or two ([non-biases, biases]) when ``bias_lr`` is given."""
    if bias_lr is None:
        return torch.optim.SGD(model.parameters(), lr=lr)
    named = list(model.named_parameters())
    return torch.optim.SGD([{"params": [p for n, p in named if not n.endswith("bias")], "lr": lr},
                            {"params": [p for n, p in named if n.endswith("bias")], "lr": bias_lr}], lr=lr)


def linear_decay(optimizer, total_steps: int):
    """A LambdaLR decaying linearly from the base lr to 0 over ``total_steps`` (no warmup)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / total_steps))


def lr_trajectory(optimizer, scheduler, steps: int) -> list[list[float]]:
    """The learning rate of every parameter group before each of ``steps`` (optimizer.step, scheduler.step)."""
    out = []
    for _ in range(steps):
        out.append([float(g["lr"]) for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return out


def param_groups(model, optimizer) -> list[dict]:
    """The optimizer's parameter groups described by parameter names:
    [{"names": sorted names, "weight_decay": float, "lr": float}, ...]."""
    names = {id(p): n for n, p in model.named_parameters()}
    return [{"names": sorted(names.get(id(p), "?") for p in g["params"]), "weight_decay": float(g["weight_decay"]),
             "lr": float(g["lr"])} for g in optimizer.param_groups]


class Probe(nn.Module):
    """Wraps a model and records (torch.is_grad_enabled(), training) at every forward call."""

    def __init__(self, model):
        super().__init__()
        self.inner = model
        self.seen = []

    @property
    def config(self):
        return self.inner.config

    def forward(self, *args, **kwargs):
        self.seen.append((torch.is_grad_enabled(), self.inner.training))
        return self.inner(*args, **kwargs)
