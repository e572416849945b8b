"""q15_bert_finetune_loop: the training loop of a BERT text classifier (see README.md)."""

from __future__ import annotations

import torch
from torch import nn


def linear_warmup_schedule(optimizer: torch.optim.Optimizer, warmup_steps: int,
                           total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR whose multiplier rises linearly from 0 to 1 over ``warmup_steps`` steps, then falls
    linearly to 0 at ``total_steps`` and stays 0 afterwards (like transformers'
    get_linear_schedule_with_warmup)."""
    raise NotImplementedError


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with exactly two parameter groups: [decayed weights (``weight_decay``), biases and
    LayerNorm parameters (weight decay 0.0)]; parameters with requires_grad=False are left out."""
    raise NotImplementedError


def train_epoch(model: nn.Module, batches: list[dict], optimizer: torch.optim.Optimizer,
                scheduler: torch.optim.lr_scheduler.LRScheduler, max_grad_norm: float = 1.0) -> float:
    """One pass over ``batches`` (dicts with input_ids, attention_mask, labels) in train mode: per batch
    zero the gradients, compute the loss, backward, clip the gradient norm to ``max_grad_norm``,
    optimizer step, scheduler step. Returns the mean of the batch losses (Python float)."""
    raise NotImplementedError


def evaluate(model: nn.Module, batches: list[dict]) -> dict:
    """In eval mode and without gradients: {"accuracy": float, "macro_f1": float, "loss": float}
    over all examples of ``batches`` (loss = mean cross-entropy per example)."""
    raise NotImplementedError


def fine_tune(model: nn.Module, train_batches: list[dict], val_batches: list[dict], epochs: int, lr: float,
              warmup_ratio: float, seed: int) -> list[dict]:
    """Fine-tune with make_optimizer (weight decay 0.01), linear_warmup_schedule
    (warmup_steps = int(warmup_ratio * total_steps), total_steps = epochs * len(train_batches)) and
    train_epoch; after each epoch evaluate on ``val_batches``. Returns one dict per epoch:
    {"epoch": 1-based int, "train_loss": float, "accuracy": float, "macro_f1": float, "loss": float}."""
    raise NotImplementedError
