"""Reference solution for q15_bert_finetune_loop: the fine-tuning loop of a BERT classifier.

The model is a ``transformers`` sequence classifier: ``model(**batch)`` with ``labels`` in the
batch returns an output whose ``.loss`` is the mean cross-entropy and ``.logits`` is [b, C].
"""

from __future__ import annotations

import torch
from torch import nn


def linear_warmup_schedule(optimizer: torch.optim.Optimizer, warmup_steps: int,
                           total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """lr multiplier: step / warmup_steps while warming up, then a linear decay to 0 at total_steps."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return step / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with two groups: [weights with decay, biases and LayerNorm parameters without decay].

    Decaying a bias or a LayerNorm gain only pulls it towards 0, which is not a useful prior; the
    usual BERT recipe exempts them. Frozen parameters (requires_grad=False) are left out.
    """
    no_decay_ids = {id(p) for m in model.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()}
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.endswith("bias") or id(p) in no_decay_ids:
            no_decay.append(p)
        else:
            decay.append(p)
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


def train_epoch(model: nn.Module, batches: list[dict], optimizer: torch.optim.Optimizer,
                scheduler: torch.optim.lr_scheduler.LRScheduler, max_grad_norm: float = 1.0) -> float:
    """One pass over ``batches``; returns the mean of the batch losses (before each update)."""
    model.train()                                   # dropout on
    total = 0.0
    for batch in batches:
        optimizer.zero_grad()                       # gradients must not accumulate across batches
        loss = model(**batch).loss
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)   # after backward, before step
        optimizer.step()
        scheduler.step()                            # the schedule counts optimizer steps, not epochs
        total += float(loss.detach())
    return total / len(batches)


@torch.no_grad()
def evaluate(model: nn.Module, batches: list[dict]) -> dict:
    """accuracy, macro-F1 and the mean cross-entropy over all examples, in eval mode."""
    model.eval()                                    # dropout off: deterministic
    preds, labels, loss_sum = [], [], 0.0
    for batch in batches:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        loss_sum += float(nn.functional.cross_entropy(logits, batch["labels"], reduction="sum"))
        preds.append(logits.argmax(dim=-1))
        labels.append(batch["labels"])
    preds, labels = torch.cat(preds), torch.cat(labels)
    n = labels.numel()
    f1s = []
    for c in torch.unique(torch.cat([preds, labels])).tolist():   # classes seen in labels or predictions
        tp = int(((preds == c) & (labels == c)).sum())
        fp = int(((preds == c) & (labels != c)).sum())
        fn = int(((preds != c) & (labels == c)).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return {"accuracy": float((preds == labels).sum()) / n,
            "macro_f1": float(sum(f1s) / len(f1s)),
            "loss": loss_sum / n}


def fine_tune(model: nn.Module, train_batches: list[dict], val_batches: list[dict], epochs: int, lr: float,
              warmup_ratio: float, seed: int) -> list[dict]:
    """AdamW (weight decay 0.01) + linear warmup/decay over all steps; one history entry per epoch."""
    torch.manual_seed(seed)                         # dropout masks are reproducible
    optimizer = make_optimizer(model, lr, weight_decay=0.01)
    total_steps = epochs * len(train_batches)
    scheduler = linear_warmup_schedule(optimizer, int(warmup_ratio * total_steps), total_steps)
    history = []
    for epoch in range(1, epochs + 1):
        train_loss = train_epoch(model, train_batches, optimizer, scheduler)
        history.append({"epoch": epoch, "train_loss": train_loss, **evaluate(model, val_batches)})
    return history
