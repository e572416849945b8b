"""Public tests for q27_gan_training."""

import pytest
import torch


def test_ring_helpers(helpers):
    m = helpers.modes()
    assert tuple(m.shape) == (8, 2) and abs(float(m[0, 0]) - 2.0) < 1e-6, f"mode 0 should be (2, 0), got {m[0].tolist()}"
    stats = helpers.mode_stats(helpers.sample_ring(800, 0))
    assert stats["modes_covered"] == 8 and stats["near_fraction"] == 1.0, f"real data should cover 8 modes, got {stats}"


@pytest.mark.call_timeout(60)
def test_train_gan_covers_modes(submission, helpers):
    G = submission.train_gan(1000, 0)
    z = torch.randn(2000, G.z_dim, generator=torch.Generator().manual_seed(1))
    x = G(z)
    assert tuple(x.shape) == (2000, 2), f"samples should have shape (2000, 2), got {tuple(x.shape)}"
    stats = helpers.mode_stats(x.detach())
    assert stats["modes_covered"] >= 6, f"expected at least 6 of 8 modes covered, got {stats}"
    assert stats["near_fraction"] >= 0.4, f"expected at least 40% of samples near a mode, got {stats}"
