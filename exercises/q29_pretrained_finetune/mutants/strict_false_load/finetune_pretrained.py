"""Reference for q29_pretrained_finetune: load pretrained weights, replace the head, fine-tune."""

import torch
from torch import Tensor, nn


def load_pretrained(model: nn.Module, state_dict: dict[str, Tensor]) -> dict[str, list[str]]:
    own = model.state_dict()  # parameters and buffers, sharing storage with the model
    missing = sorted(k for k in own if k not in state_dict)
    unexpected = sorted(k for k in state_dict if k not in own)
    # A key in both places whose shape differs is typically the old classification head
    # (e.g. 4 source classes vs 3 target classes): keep the model's freshly initialised tensor.
    mismatched = sorted(k for k in state_dict if k in own and tuple(own[k].shape) != tuple(state_dict[k].shape))
    matching = {k: v for k, v in state_dict.items() if k in own and k not in mismatched}
    # strict=False tolerates the missing keys; shape mismatches were filtered out above, so
    # load_state_dict cannot raise "size mismatch".
    model.load_state_dict(state_dict, strict=False)
    return {"missing": missing, "unexpected": unexpected, "mismatched": mismatched}


def finetune(model: nn.Module, images: Tensor, labels: Tensor, epochs: int, lr: float, seed: int,
             freeze_backbone: bool = True) -> nn.Module:
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    # Freezing = no gradient for the backbone AND the optimizer only sees the head, so that
    # neither the update nor weight decay / momentum can move the pretrained weights.
    for p in model.backbone.parameters():
        p.requires_grad_(not freeze_backbone)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    n = len(labels)
    batch_size = 16
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)  # reshuffle every epoch
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images[idx]), labels[idx])
            loss.backward()
            optimizer.step()
    model.eval()
    return model
