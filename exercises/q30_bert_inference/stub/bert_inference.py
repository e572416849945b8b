"""Batched inference with a BERT classifier (fill in the bodies)."""

from __future__ import annotations


def predict(model, tokenizer, texts: list[str], batch_size: int = 8, max_length: int = 64) -> list[dict]:
    """Classify ``texts`` with a sequence-classification model.

    Args:
        model: e.g. a ``transformers.BertForSequenceClassification`` (its output has ``.logits``).
        tokenizer: a ``transformers.BertTokenizer`` (adds [CLS]/[SEP]; ``pad_token_id``).
        texts: the texts to classify.
        batch_size: at most this many texts per forward pass.
        max_length: sequences (special tokens included) are truncated to this many tokens.

    Returns:
        One dict per text, in input order: ``{"label": int, "probs": list[float]}`` (softmax of the
        logits). The model is used in eval mode without gradients; its previous mode is restored.
    """
    raise NotImplementedError


def padding_cost(tokenizer, texts: list[str], batch_size: int, max_length: int, sort_by_length: bool) -> int:
    """Number of [PAD] tokens added when ``texts`` are cut into consecutive batches of ``batch_size``
    (after a stable ascending sort by token length when ``sort_by_length``), each batch padded to its
    longest sequence; lengths count [CLS]/[SEP] and are truncated to ``max_length``."""
    raise NotImplementedError
