"""Reference solution: batched, length-sorted inference with dynamic padding.

Sorting texts by tokenized length before cutting them into batches puts sequences of similar
length together, so each batch is padded only up to its own longest sequence ("dynamic padding")
and little compute is wasted on [PAD] tokens. Results are written back to the texts' original
positions. Inference runs in eval mode (dropout off) without autograd, and the model's previous
mode is restored afterwards so that a training loop calling ``predict`` is not disturbed.
"""

from __future__ import annotations

import torch


def _lengths(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    """Token ids of each text, with [CLS]/[SEP], truncated to max_length, unpadded."""
    return tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]


def predict(model, tokenizer, texts: list[str], batch_size: int = 8, max_length: int = 64) -> list[dict]:
    if len(texts) == 0:
        return []
    encoded = _lengths(tokenizer, texts, max_length)
    order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))   # shortest first
    results: list[dict | None] = [None] * len(texts)
    pad_id = tokenizer.pad_token_id

    was_training = model.training
    model.eval()                                   # dropout off
    try:
        with torch.no_grad():                      # no autograd graph at inference
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                width = max(len(encoded[i]) for i in chunk)            # pad to this batch's longest
                input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
                attention_mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, i in enumerate(chunk):
                    ids = encoded[i]
                    input_ids[row, :len(ids)] = torch.tensor(ids)
                    attention_mask[row, :len(ids)] = 1
                logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
                probs = torch.softmax(logits.float(), dim=-1)
                for row, i in enumerate(chunk):
                    results[start + row] = {"label": int(probs[row].argmax()), "probs": [float(p) for p in probs[row]]}
    finally:
        model.train(was_training)                  # restore the caller's mode
    return results  # type: ignore[return-value]


def padding_cost(tokenizer, texts: list[str], batch_size: int, max_length: int, sort_by_length: bool) -> int:
    lengths = [len(ids) for ids in _lengths(tokenizer, texts, max_length)] if texts else []
    if sort_by_length:
        lengths = sorted(lengths)
    cost = 0
    for start in range(0, len(lengths), batch_size):
        batch = lengths[start:start + batch_size]
        cost += max(batch) * len(batch) - sum(batch)
    return int(cost)
