import math

import pytest
import torch
import torch.nn.functional as F

from grader.testing import assert_close, assert_float, fetch, keep


def _peer_d(real, fake, ls):
    return (F.binary_cross_entropy_with_logits(real, torch.full_like(real, 1.0 - ls))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def _peer_g(fake):
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


@pytest.mark.points(2)
def test_discriminator_loss_values(submission):
    """discriminator_loss equals BCE-with-logits (real target 1 - label_smoothing, fake target 0)"""
    for case in range(8):
        real = torch.randn(int(torch.randint(3, 12, ())), 1) * 2
        fake = torch.randn(int(torch.randint(3, 12, ())), 1) * 2
        ls = [0.0, 0.1, 0.25, 0.0][case % 4]
        got = submission.discriminator_loss(real, fake, label_smoothing=ls) if ls else \
            submission.discriminator_loss(real, fake)
        assert_close(got, _peer_d(real, fake, ls), rtol=1e-4, atol=1e-5,
                     what=f"discriminator_loss (label_smoothing={ls})")


@pytest.mark.points(1)
def test_generator_loss_values(submission):
    """generator_loss is the non-saturating loss mean(-log sigmoid(fake_logits))"""
    for _ in range(6):
        fake = torch.randn(int(torch.randint(2, 20, ())), 1) * 2
        assert_close(submission.generator_loss(fake), _peer_g(fake), rtol=1e-4, atol=1e-5, what="generator_loss")


@pytest.mark.points(2)
def test_losses_stable_at_extreme_logits(submission, remote):
    """both losses and their gradients stay finite and correct at logits of +-1e4"""
    real = torch.tensor([1e4, -1e4, 0.5, -3.0])
    fake = torch.tensor([-1e4, 1e4, 2.0, 0.0])
    got = submission.discriminator_loss(real, fake, label_smoothing=0.1)
    assert_close(got, _peer_d(real, fake, 0.1), rtol=1e-4, atol=1e-4, what="discriminator_loss at logits of +-1e4")
    got = submission.generator_loss(fake)
    assert_close(got, _peer_g(fake), rtol=1e-4, atol=1e-4, what="generator_loss at logits of +-1e4")

    # gradients, computed in the worker on leaf tensors
    r = remote.construct("torch.nn.Parameter", real.clone())
    f = remote.construct("torch.nn.Parameter", fake.clone())
    keep(submission).discriminator_loss(r, f).backward()
    rr, ff = real.clone().requires_grad_(), fake.clone().requires_grad_()
    _peer_d(rr, ff, 0.0).backward()
    assert_close(fetch(keep(r).grad), rr.grad, rtol=1e-4, atol=1e-6, what="gradient of discriminator_loss (real logits)")
    assert_close(fetch(keep(f).grad), ff.grad, rtol=1e-4, atol=1e-6, what="gradient of discriminator_loss (fake logits)")
    f2 = remote.construct("torch.nn.Parameter", fake.clone())
    keep(submission).generator_loss(f2).backward()
    ff2 = fake.clone().requires_grad_()
    _peer_g(ff2).backward()
    assert_close(fetch(keep(f2).grad), ff2.grad, rtol=1e-4, atol=1e-6, what="gradient of generator_loss")


def _setup(remote, helpers, lr_g, lr_d, seed):
    """The same G, D and SGD optimizers in the worker (handles) and in the judge (local)."""
    G = remote.helpers.make_generator(4, 2, 16, seed)
    D = remote.helpers.make_discriminator(2, 16, seed + 1)
    opt_g = remote.construct("torch.optim.SGD", G.parameters(), lr=lr_g, momentum=0.5)
    opt_d = remote.construct("torch.optim.SGD", D.parameters(), lr=lr_d, momentum=0.5)
    g, d = helpers.make_generator(4, 2, 16, seed), helpers.make_discriminator(2, 16, seed + 1)
    og = torch.optim.SGD(g.parameters(), lr=lr_g, momentum=0.5)
    od = torch.optim.SGD(d.parameters(), lr=lr_d, momentum=0.5)
    return (G, D, opt_g, opt_d), (g, d, og, od)


def _compare_module(handle, local, what):
    state = {k: v.detach().clone() for k, v in local.state_dict().items()}
    for name, value in state.items():
        got = fetch(keep(handle).get_parameter(name))
        assert_close(got, value, rtol=1e-4, atol=1e-5, what=f"{what} parameter {name} after gan_step")


def _run(submission, reference, remote, helpers, lr_g, lr_d, steps):
    seed = int(torch.randint(0, 1000, ()))
    (G, D, opt_g, opt_d), (g, d, og, od) = _setup(remote, helpers, lr_g, lr_d, seed)
    for step in range(steps):
        real = torch.randn(16, 2) * 0.5 + torch.tensor([2.0, -1.0])
        z = torch.randn(16, 4)
        got = submission.gan_step(G, D, opt_g, opt_d, real, z)
        expected = reference.gan_step(g, d, og, od, real, z)
        assert type(got) is dict, f"gan_step should return a dict, got {type(got).__name__}"
        assert set(got) >= {"d_loss", "g_loss"}, "gan_step should return the keys 'd_loss' and 'g_loss'"
        assert_float(got["d_loss"], "d_loss")
        assert_float(got["g_loss"], "g_loss")
        assert_close(got["d_loss"], expected["d_loss"], rtol=1e-4, atol=1e-5, what=f"d_loss returned at step {step + 1}")
        assert_close(got["g_loss"], expected["g_loss"], rtol=1e-4, atol=1e-5, what=f"g_loss returned at step {step + 1}")
    return G, D, g, d


@pytest.mark.points(3)
def test_gan_step_matches_reference(submission, reference, remote, helpers):
    """several gan_step calls: returned losses and updated weights of G and D are right"""
    G, D, g, d = _run(submission, reference, remote, helpers, 0.05, 0.05, 3)
    _compare_module(G, g, "generator")
    _compare_module(D, d, "discriminator")


@pytest.mark.points(2)
def test_discriminator_update_alone(submission, reference, remote, helpers):
    """with a frozen generator optimizer (lr=0): D is updated once, from d_loss on detached fakes only"""
    G, D, g, d = _run(submission, reference, remote, helpers, 0.0, 0.1, 2)
    _compare_module(G, g, "generator (lr 0)")
    _compare_module(D, d, "discriminator")


@pytest.mark.points(2)
def test_generator_update_alone(submission, reference, remote, helpers):
    """with a frozen discriminator optimizer (lr=0): G is updated from g_loss only and D never changes"""
    G, D, g, d = _run(submission, reference, remote, helpers, 0.1, 0.0, 2)
    _compare_module(D, d, "discriminator (lr 0)")
    _compare_module(G, g, "generator")
