"""Public tests for q10_bert_classifier (run them with `grader check`)."""

import torch

CONFIG = dict(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
              max_position_embeddings=32)


def test_output_shapes(submission):
    model = submission.BertClassifier(CONFIG, 3)
    model.eval()
    ids = torch.tensor([[2, 7, 9, 4], [2, 5, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    out = model(ids, attention_mask=mask)
    assert type(out) is dict and set(out) == {"logits"}, f"forward without labels should return {{'logits': ...}}, got {out!r}"
    logits = out["logits"]
    assert type(logits) is torch.Tensor and tuple(logits.shape) == (2, 3), \
        f"logits for a batch of 2 with 3 labels should have shape (2, 3), got {logits!r}"


def test_loss_of_zero_classifier(submission):
    # With the classifier set to zero every logit is 0, so the cross-entropy is log(num_labels).
    model = submission.BertClassifier(CONFIG, 4)
    model.eval()
    state = {"weight": torch.zeros(4, 16), "bias": torch.zeros(4)}
    model.classifier.load_state_dict(state)
    out = model(torch.tensor([[2, 7, 9]]), labels=torch.tensor([1]))
    assert set(out) == {"logits", "loss"}, f"forward with labels should return logits and loss, got keys {sorted(out)}"
    expected = float(torch.log(torch.tensor(4.0)))
    got = float(out["loss"])
    assert abs(got - expected) < 1e-5, f"with all logits 0 and 4 labels the loss should be log(4) = {expected:.6f}, got {got:.6f}"


def test_padding_does_not_change_logits(submission):
    model = submission.BertClassifier(CONFIG, 2)
    model.eval()
    a = model(torch.tensor([[2, 7, 9]]), attention_mask=torch.tensor([[1, 1, 1]]))["logits"]
    b = model(torch.tensor([[2, 7, 9, 0, 0]]), attention_mask=torch.tensor([[1, 1, 1, 0, 0]]))["logits"]
    assert torch.allclose(a, b, atol=1e-5), f"adding masked padding changed the logits: {a.tolist()} vs {b.tolist()}"
