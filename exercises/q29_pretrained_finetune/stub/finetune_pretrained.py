"""q29: transfer learning from pretrained weights (see README.md)."""

from torch import Tensor, nn


def load_pretrained(model: nn.Module, state_dict: dict[str, Tensor]) -> dict[str, list[str]]:
    """Copy into ``model`` every tensor of ``state_dict`` whose key exists in
    ``model.state_dict()`` with the same shape; never raise for the others.

    Returns ``{"missing": [...], "unexpected": [...], "mismatched": [...]}``, each a sorted list
    of keys: missing = keys of the model absent from ``state_dict``; unexpected = keys of
    ``state_dict`` absent from the model; mismatched = keys in both with different shapes
    (left untouched in the model). Keys are matched exactly.
    """
    raise NotImplementedError


def finetune(model: nn.Module, images: Tensor, labels: Tensor, epochs: int, lr: float, seed: int,
             freeze_backbone: bool = True) -> nn.Module:
    """Train ``model`` (a ``helpers.TransferNet``) on ``images`` [N, 1, 12, 12] and ``labels`` [N]
    with cross-entropy and Adam(lr) for ``epochs`` passes over the data; randomness seeded from
    ``seed``. With ``freeze_backbone`` only ``model.head`` is trained and ``model.backbone`` keeps
    its weights; without it every parameter is trained. Returns the trained model.
    """
    raise NotImplementedError
