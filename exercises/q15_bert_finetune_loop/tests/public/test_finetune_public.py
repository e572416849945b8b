"""Public tests for q15_bert_finetune_loop (the hidden tests check more, on random inputs)."""

import pytest
import torch


def test_schedule_values(submission, remote):
    lin = remote.construct("torch.nn.Linear", 2, 2)
    opt = remote.helpers.make_sgd(lin, 1.0)
    sched = submission.linear_warmup_schedule(opt, 2, 6)
    got = [round(x[0], 6) for x in remote.helpers.lr_trajectory(opt, sched, 8)]
    expected = [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert got == expected, f"warmup 2, total 6, base lr 1.0: lrs should be {expected}, got {got}"


def test_param_groups(submission, remote):
    model = remote.helpers.make_model(2, seed=0)
    opt = submission.make_optimizer(model, 1e-3, 0.01)
    groups = remote.helpers.param_groups(model, opt)
    assert len(groups) == 2, f"expected 2 parameter groups, got {len(groups)}"
    assert "bert.embeddings.word_embeddings.weight" in groups[0]["names"], "word embeddings should be decayed"
    assert "bert.embeddings.LayerNorm.weight" in groups[1]["names"], "LayerNorm weights should not be decayed"
    assert "classifier.bias" in groups[1]["names"], "biases should not be decayed"
    assert (groups[0]["weight_decay"], groups[1]["weight_decay"]) == (0.01, 0.0), (
        f"weight decays should be (0.01, 0.0), got {(groups[0]['weight_decay'], groups[1]['weight_decay'])}")


def test_evaluate_perfect_and_modes(submission, remote):
    # A model whose logits favour class 1 for every input: accuracy = share of label 1.
    model = remote.helpers.make_model(2, seed=0)
    model.classifier.load_state_dict({"weight": torch.zeros(2, 32), "bias": torch.tensor([-50.0, 50.0])})
    batches = [{"input_ids": torch.tensor([[2, 10, 3], [2, 11, 3]]), "attention_mask": torch.ones(2, 3, dtype=torch.long),
                "labels": torch.tensor([1, 1])},
               {"input_ids": torch.tensor([[2, 12, 3]]), "attention_mask": torch.ones(1, 3, dtype=torch.long),
                "labels": torch.tensor([0])}]
    result = submission.evaluate(model, batches)
    assert abs(result["accuracy"] - 2 / 3) < 1e-6, f"accuracy should be 2/3, got {result['accuracy']}"
    # class 1: tp 2, fp 1, fn 0 -> f1 0.8; class 0: tp 0, fp 0, fn 1 -> f1 0.0; macro 0.4
    assert abs(result["macro_f1"] - 0.4) < 1e-6, f"macro_f1 should be 0.4, got {result['macro_f1']}"
    assert result["loss"] > 30, f"the loss should be about 100/3 (one example off by a margin of 100), got {result['loss']}"
    assert model.training is False, "evaluate should leave the model in eval mode"


@pytest.mark.call_timeout(60)
def test_fine_tune(submission, remote, helpers):
    train, val, test = helpers.make_task(800, seed=0), helpers.make_task(200, seed=1), helpers.make_task(400, seed=2)
    model = remote.helpers.make_model(2, seed=0)
    history = submission.fine_tune(model, train, val, 3, 2e-3, 0.1, 0)
    assert len(history) == 3, f"3 epochs should give 3 history entries, got {len(history)}"
    pred = remote.helpers.predict(model, test)
    acc = float((pred == torch.cat([b["labels"] for b in test])).float().mean())
    assert acc >= 0.9, f"held-out accuracy should be at least 0.90, got {acc:.3f}"
