import torch

import pytest


def test_td_targets_small(submission):
    got = submission.td_targets(torch.tensor([1.0, 0.5]), torch.tensor([[1.0, 3.0], [2.0, 0.0]]),
                                torch.tensor([False, True]), 0.9)
    expected = torch.tensor([1.0 + 0.9 * 3.0, 0.5])
    assert torch.allclose(got, expected), f"td_targets: expected {expected}, got {got}"


def test_double_dqn_small(submission):
    got = submission.double_dqn_targets(torch.tensor([1.0]), torch.tensor([[5.0, 1.0]]),
                                        torch.tensor([[2.0, 9.0]]), torch.tensor([0.0]), 0.5)
    expected = torch.tensor([1.0 + 0.5 * 2.0])  # online picks action 0, target values it at 2
    assert torch.allclose(got, expected), f"double_dqn_targets: expected {expected}, got {got}"


def test_buffer_wraps(submission):
    buf = submission.ReplayBuffer(2, 0)
    for i in range(3):
        buf.push(torch.zeros(1), 0, float(i), torch.zeros(1), False)
    assert len(buf) == 2, f"capacity 2 after 3 pushes: len should be 2, got {len(buf)}"
    rewards = sorted(buf.sample(2)[2].tolist())
    assert rewards == [1.0, 2.0], f"the oldest transition should have been overwritten; stored rewards {rewards}"
