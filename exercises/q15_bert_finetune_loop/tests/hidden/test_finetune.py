"""Hidden tests for q15_bert_finetune_loop: the schedule against transformers'
get_linear_schedule_with_warmup, parameter groups, train_epoch and evaluate against the reference
on identical tiny BERT models (helpers.make_model is deterministic), modes and gradients seen by
the model (helpers.Probe), and a full fine-tuning run judged on held-out data."""

import pytest
import torch
import transformers

from grader.testing import assert_close, assert_float

TOL = dict(rtol=1e-4, atol=1e-6)


def expected_lrs(base_lrs, warmup, total, steps):
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in base_lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, base_lrs)], lr=base_lrs[0])
    sched = transformers.get_linear_schedule_with_warmup(opt, warmup, total)
    out = []
    for _ in range(steps):
        out.append([float(g["lr"]) for g in opt.param_groups])
        opt.step()
        sched.step()
    return out


def random_batches(sizes, rng, n_labels=2):
    """Batches of random token ids (padded at the end) and random labels."""
    batches = []
    for size in sizes:
        length = int(torch.randint(4, 10, (1,), generator=rng))
        lengths = torch.randint(2, length + 1, (size,), generator=rng)
        lengths[0] = length
        mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
        ids = torch.randint(5, 70, (size, length), generator=rng) * mask
        batches.append({"input_ids": ids, "attention_mask": mask,
                        "labels": torch.randint(0, n_labels, (size,), generator=rng)})
    return batches


def state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.points(2)
def test_schedule_matches_transformers(submission, remote):
    """linear_warmup_schedule: the learning rate at every step equals get_linear_schedule_with_warmup's"""
    for warmup, total, base in ((3, 10, [0.1]), (5, 40, [1e-3, 5e-2]), (1, 7, [0.5]), (12, 25, [2.0, 0.2])):
        lin = remote.construct("torch.nn.Linear", 2, 2)
        opt = remote.helpers.make_sgd(lin, *base)
        sched = submission.linear_warmup_schedule(opt, warmup, total)
        got = remote.helpers.lr_trajectory(opt, sched, total + 3)
        assert_close(got, expected_lrs(base, warmup, total, total + 3), rtol=1e-6, atol=1e-9,
                     what="learning rates along the schedule (warmup then linear decay)")


@pytest.mark.points(1)
def test_schedule_edge_cases(submission, remote):
    """no warmup, warmup over all steps, and 0 (never negative) after total_steps; a LambdaLR"""
    for warmup, total in ((0, 6), (6, 6), (0, 1), (2, 3)):
        lin = remote.construct("torch.nn.Linear", 2, 2)
        opt = remote.helpers.make_sgd(lin, 0.3)
        sched = submission.linear_warmup_schedule(opt, warmup, total)
        assert sched.remote_type.endswith("LambdaLR"), "linear_warmup_schedule should return a LambdaLR"
        got = remote.helpers.lr_trajectory(opt, sched, total + 4)
        assert_close(got, expected_lrs([0.3], warmup, total, total + 4), rtol=1e-6, atol=1e-9,
                     what="learning rates with warmup_steps in {0, total_steps} or past total_steps")


@pytest.mark.points(2)
def test_optimizer_param_groups(submission, remote, helpers):
    """make_optimizer: AdamW, [decay, no decay] groups, biases and LayerNorm exempt, frozen left out"""
    for lr, wd, freeze in ((1e-3, 0.01, False), (5e-4, 0.1, True)):
        model = remote.helpers.make_model(2, seed=0)
        local = helpers.make_model(2, seed=0)
        if freeze:
            model.bert.embeddings.requires_grad_(False)
            local.bert.embeddings.requires_grad_(False)
        opt = submission.make_optimizer(model, lr, wd)
        assert opt.remote_type.endswith("AdamW"), "make_optimizer should return a torch.optim.AdamW"
        groups = remote.helpers.param_groups(model, opt)
        assert type(groups) is list and len(groups) == 2, "make_optimizer should build exactly two parameter groups"
        ln = {id(p) for m in local.modules() if isinstance(m, torch.nn.LayerNorm) for p in m.parameters()}
        named = [(n, p) for n, p in local.named_parameters() if p.requires_grad]
        no_decay = sorted(n for n, p in named if n.endswith("bias") or id(p) in ln)
        decay = sorted(n for n, p in named if not (n.endswith("bias") or id(p) in ln))
        assert groups[0]["names"] == decay, (
            "the first group should hold exactly the trainable weights that are decayed"
            + (" (frozen parameters must be left out)" if freeze else ""))
        assert groups[1]["names"] == no_decay, (
            "the second group should hold exactly the trainable biases and LayerNorm parameters"
            + (" (frozen parameters must be left out)" if freeze else ""))
        assert groups[0]["weight_decay"] == wd and groups[1]["weight_decay"] == 0.0, "wrong weight_decay in the groups"
        assert groups[0]["lr"] == lr and groups[1]["lr"] == lr, "both groups should use the requested lr"


@pytest.mark.points(3)
def test_train_epoch_matches_reference(submission, remote, helpers, reference, rng):
    """train_epoch: zero_grad, backward, clipping, optimizer and scheduler step per batch; mean loss"""
    for max_norm, lr in ((1.0, 0.5), (0.05, 2.0), (100.0, 0.05)):
        batches = random_batches((8, 8, 5), rng)
        model = remote.helpers.make_model(2, seed=1, dropout=0.0)
        model.eval()  # train_epoch must switch to train mode itself (no dropout here: deterministic)
        opt = remote.helpers.make_sgd(model, lr)
        sched = remote.helpers.linear_decay(opt, 4)
        got = submission.train_epoch(model, batches, opt, sched, max_norm)
        local = helpers.make_model(2, seed=1, dropout=0.0)
        local_opt = helpers.make_sgd(local, lr)
        expected = reference.train_epoch(local, batches, local_opt, helpers.linear_decay(local_opt, 4), max_norm)
        what = f"with max_grad_norm={max_norm}"
        assert_close(got, expected, what=f"the returned mean training loss {what}", **TOL)
        assert_close(model.state_dict(), state(local), rtol=1e-3, atol=1e-5,
                     what=f"the parameters after train_epoch {what}")


@pytest.mark.points(1)
def test_train_epoch_mode_and_grad(submission, remote):
    """train_epoch runs every forward in train mode with gradients enabled"""
    batches = random_batches((4, 4, 4), torch.Generator().manual_seed(3))
    model = remote.helpers.make_model(2, seed=2)
    model.eval()
    probe = remote.helpers.Probe(model)
    probe.eval()
    opt = remote.helpers.make_sgd(model, 0.01)
    loss = submission.train_epoch(probe, batches, opt, remote.helpers.linear_decay(opt, 3), 1.0)
    assert_float(loss, "train_epoch's result")
    seen = probe.seen
    assert len(seen) == 3, "train_epoch should call the model once per batch"
    assert all(grad for grad, _ in seen), "train_epoch ran a forward pass without gradients"
    assert all(training for _, training in seen), "train_epoch ran a forward pass in eval mode (call model.train())"


@pytest.mark.points(2)
def test_evaluate_matches_reference(submission, remote, helpers, reference, rng):
    """evaluate: accuracy, macro_f1 and the mean loss over all examples equal the reference's"""
    for n_labels, sizes in ((2, (16, 16, 5)), (3, (7, 3)), (4, (30, 1, 9))):
        for seed in (4, 5):
            batches = random_batches(sizes, rng, n_labels)
            model = remote.helpers.make_model(n_labels, seed=seed, dropout=0.3)   # left in train mode
            got = submission.evaluate(model, batches)
            expected = reference.evaluate(helpers.make_model(n_labels, seed=seed, dropout=0.3), batches)
            assert_close(got, expected, what="evaluate(...)", rtol=1e-4, atol=1e-6)


@pytest.mark.points(1)
def test_evaluate_mode_and_no_grad(submission, remote, rng):
    """evaluate runs in eval mode without gradients and does not change the model"""
    batches = random_batches((6, 6), rng)
    model = remote.helpers.make_model(2, seed=6)
    before = model.state_dict()
    probe = remote.helpers.Probe(model)
    probe.train()
    submission.evaluate(probe, batches)
    seen = probe.seen
    assert len(seen) == 2, "evaluate should call the model once per batch"
    assert not any(grad for grad, _ in seen), "evaluate ran a forward pass with gradients enabled (torch.no_grad)"
    assert not any(training for _, training in seen), "evaluate ran a forward pass in train mode (call model.eval())"
    assert_close(model.state_dict(), before, what="the parameters after evaluate")


@pytest.mark.points(6)
@pytest.mark.call_timeout(60)
def test_fine_tune_heldout_accuracy(submission, remote, helpers, seed):
    """fine_tune: a history entry per epoch and at least 90% held-out accuracy (within 60 s)"""
    s = seed % 10_000
    train = helpers.make_task(800, seed=s)
    val = helpers.make_task(200, seed=s + 1)
    test = helpers.make_task(400, seed=s + 2)
    model = remote.helpers.make_model(2, seed=s % 1000)
    history = submission.fine_tune(model, train, val, 3, 2e-3, 0.1, s % 1000)
    assert type(history) is list and len(history) == 3, "fine_tune should return one dict per epoch"
    for i, h in enumerate(history):
        assert type(h) is dict and {"epoch", "train_loss", "accuracy", "macro_f1", "loss"} <= set(h), (
            "history entries should hold epoch, train_loss, accuracy, macro_f1 and loss")
        assert h["epoch"] == i + 1, "history epochs should be numbered 1, 2, ..."
        for key in ("train_loss", "accuracy", "macro_f1", "loss"):
            assert_float(h[key], f"history[{i}][{key!r}]")
    pred = remote.helpers.predict(model, test)
    acc = float((pred == torch.cat([b["labels"] for b in test])).float().mean())
    assert acc >= 0.9, f"held-out accuracy after fine_tune is {acc:.3f}, below the required 0.90"
