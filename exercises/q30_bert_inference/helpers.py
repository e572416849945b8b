"""Public helpers for q30_bert_inference: the tokenizer of the shipped vocab, a tiny classifier,
and a deterministic generator of short texts. No downloads; everything is seeded."""

from __future__ import annotations

import random
from pathlib import Path

import torch

VOCAB_FILE = Path(__file__).resolve().parent / "vocab.txt"

WORDS = [w for w in VOCAB_FILE.read_text().split() if w.isalpha()]


def make_tokenizer():
    """A lower-casing WordPiece ``transformers.BertTokenizer`` built from ``vocab.txt``."""
    from transformers import BertTokenizer

    vocab = {tok: i for i, tok in enumerate(VOCAB_FILE.read_text().split())}
    return BertTokenizer(vocab=vocab, do_lower_case=True)


def make_model(num_labels: int = 3, seed: int = 0, dropout: float = 0.1):
    """A tiny randomly initialised ``BertForSequenceClassification`` (deterministic given ``seed``),
    returned in train mode like a freshly built model."""
    from transformers import BertConfig, BertForSequenceClassification

    vocab_size = len(VOCAB_FILE.read_text().split())
    config = BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, num_labels=num_labels,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, initializer_range=0.2)
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = BertForSequenceClassification(config)
    finally:
        torch.random.set_rng_state(state)
    model.train()
    return model


def random_texts(n: int, seed: int, min_words: int = 1, max_words: int = 12) -> list[str]:
    """``n`` random sentences of vocabulary words (some with capitals, suffixes and punctuation)."""
    r = random.Random(seed)
    texts = []
    for _ in range(n):
        k = r.randint(min_words, max_words)
        words = []
        for _ in range(k):
            w = r.choice(WORDS)
            if r.random() < 0.15:
                w += r.choice(["s", "ed", "ing", "ly"])
            if r.random() < 0.1:
                w = w.capitalize()
            words.append(w)
        text = " ".join(words)
        if r.random() < 0.5:
            text += r.choice([".", "!", "?"])
        texts.append(text)
    return texts
