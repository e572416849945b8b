import math

import torch


def test_losses_at_zero_logits(submission):
    d = submission.discriminator_loss(torch.tensor([0.0, 0.0]), torch.tensor([0.0]))
    assert type(d) is torch.Tensor and d.dim() == 0, f"expected a 0-dim tensor, got {d!r}"
    assert abs(float(d) - 2 * math.log(2)) < 1e-5, f"discriminator_loss(0, 0) should be 2*log(2)=1.386294, got {float(d)}"
    g = submission.generator_loss(torch.tensor([0.0, 0.0, 0.0]))
    assert abs(float(g) - math.log(2)) < 1e-5, f"generator_loss(0) should be log(2)=0.693147, got {float(g)}"


def test_label_smoothing_and_extremes(submission):
    # real target 0.9: 0.9*softplus(-2) + 0.1*softplus(2) = 0.326928; fake: softplus(-1) = 0.313262
    d = float(submission.discriminator_loss(torch.tensor([2.0]), torch.tensor([-1.0]), label_smoothing=0.1))
    assert abs(d - 0.640190) < 1e-5, f"discriminator_loss([2.], [-1.], label_smoothing=0.1) should be 0.640190, got {d}"
    g = float(submission.generator_loss(torch.tensor([-1e4, 1e4])))
    assert abs(g - 5000.0) < 1e-2, f"generator_loss([-1e4, 1e4]) should be 5000.0, got {g}"


def test_gan_step_returns_floats(submission, remote):
    G = remote.helpers.make_generator(4, 2, 16, 0)
    D = remote.helpers.make_discriminator(2, 16, 1)
    opt_g = remote.construct("torch.optim.SGD", G.parameters(), lr=0.1)
    opt_d = remote.construct("torch.optim.SGD", D.parameters(), lr=0.1)
    out = submission.gan_step(G, D, opt_g, opt_d, torch.randn(8, 2), torch.randn(8, 4))
    assert type(out) is dict and type(out.get("d_loss")) is float and type(out.get("g_loss")) is float, \
        f"gan_step should return {{'d_loss': float, 'g_loss': float}}, got {out!r}"
