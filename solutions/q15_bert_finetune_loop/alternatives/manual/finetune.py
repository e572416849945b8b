"""Alternative solution for q15_bert_finetune_loop: hand-written clipping, a 1-D rule for the
no-decay group, a confusion matrix for the metrics, and a schedule written with min()."""

import torch


def linear_warmup_schedule(optimizer, warmup_steps, total_steps):
    def mult(step):
        up = step / warmup_steps if warmup_steps > 0 else 1.0
        down = (total_steps - step) / (total_steps - warmup_steps) if total_steps > warmup_steps else 1.0
        return max(0.0, min(up, down, 1.0)) if step < total_steps else 0.0
    return torch.optim.lr_scheduler.LambdaLR(optimizer, mult)


def make_optimizer(model, lr, weight_decay):
    params = [p for p in model.parameters() if p.requires_grad]
    # In BERT every bias and every LayerNorm parameter is 1-D, every other weight is 2-D.
    return torch.optim.AdamW([
        {"params": [p for p in params if p.dim() > 1], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() <= 1], "weight_decay": 0.0},
    ], lr=lr)


def train_epoch(model, batches, optimizer, scheduler, max_grad_norm=1.0):
    model.train()
    losses = []
    params = [p for p in model.parameters() if p.requires_grad]
    for batch in batches:
        for p in params:
            p.grad = None
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
        out.loss.backward()
        grads = [p.grad for p in params if p.grad is not None]
        norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
        scale = max_grad_norm / (float(norm) + 1e-6)
        if scale < 1.0:
            for g in grads:
                g.mul_(scale)
        optimizer.step()
        scheduler.step()
        losses.append(out.loss.item())
    return sum(losses) / len(losses)


def evaluate(model, batches):
    model.eval()
    with torch.no_grad():
        all_logits = [model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits for b in batches]
    logits = torch.cat(all_logits)
    labels = torch.cat([b["labels"] for b in batches])
    preds = logits.argmax(1)
    C = logits.shape[1]
    cm = torch.zeros(C, C, dtype=torch.long)
    for t, p in zip(labels.tolist(), preds.tolist()):
        cm[t, p] += 1
    tp = cm.diag().double()
    support, predicted = cm.sum(1).double(), cm.sum(0).double()
    present = (support + predicted) > 0
    f1 = 2 * tp / (support + predicted).clamp(min=1)
    logp = torch.log_softmax(logits.double(), dim=1)
    return {"accuracy": float(tp.sum() / labels.numel()),
            "macro_f1": float(f1[present].mean()),
            "loss": float(-logp[torch.arange(labels.numel()), labels].mean())}


def fine_tune(model, train_batches, val_batches, epochs, lr, warmup_ratio, seed):
    torch.manual_seed(seed)
    opt = make_optimizer(model, lr, 0.01)
    total = epochs * len(train_batches)
    sched = linear_warmup_schedule(opt, int(warmup_ratio * total), total)
    history = []
    for e in range(epochs):
        tl = train_epoch(model, train_batches, opt, sched)
        history.append(dict(epoch=e + 1, train_loss=tl, **evaluate(model, val_batches)))
    return history
