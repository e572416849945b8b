import pytest
import torch

from grader.testing import assert_close

GRIDS = [
    dict(height=4, width=4, start=(0, 0), goal=(3, 3), walls=[]),
    dict(height=5, width=5, start=(0, 0), goal=(4, 4), walls=[(1, 1), (1, 2), (1, 3), (3, 1), (3, 2), (3, 3)]),
    dict(height=4, width=6, start=(3, 0), goal=(0, 5), walls=[(1, 1), (2, 1), (3, 1), (0, 3), (1, 3), (2, 3)]),
    dict(height=3, width=7, start=(1, 6), goal=(1, 0), walls=[(0, 3), (1, 3)]),
]


@pytest.mark.points(3)
def test_epsilon_greedy(submission):
    """epsilon_greedy: greedy with ties to the lowest index, exploration rate, epsilon range"""
    q = torch.tensor([0.5, 2.0, -1.0, 2.0, 1.0])
    for k in range(20):
        got = submission.epsilon_greedy(q, 0.0, torch.Generator().manual_seed(k))
        assert type(got) is int, "epsilon_greedy should return a Python int"
        assert got == 1, "with epsilon=0 the greedy action (lowest index on ties) should be returned"
    n = 600
    for eps in (0.3, 1.0):
        counts = [0] * 5
        for k in range(n):
            counts[submission.epsilon_greedy(q, eps, torch.Generator().manual_seed(1000 + k))] += 1
        greedy = 1 - eps + eps / 5
        assert abs(counts[1] / n - greedy) < 0.06, f"with epsilon={eps} the greedy action's frequency is wrong"
        for a in (0, 2, 3, 4):
            assert abs(counts[a] / n - eps / 5) < 0.05, f"with epsilon={eps} a non-greedy action's frequency is wrong"
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            submission.epsilon_greedy(q, bad, torch.Generator().manual_seed(0))


def _batch(rng, b, a):
    rewards = torch.randn(b, generator=rng)
    q1 = torch.randn(b, a, generator=rng)
    q2 = torch.randn(b, a, generator=rng)
    q1[0, :] = 0.7  # a row of ties
    dones = torch.rand(b, generator=rng) < 0.3
    dones[0] = False
    dones[1] = True
    return rewards, q1, q2, dones


@pytest.mark.points(2)
def test_td_targets(submission, reference, rng):
    """td_targets against the reference (terminal transitions, bool and float dones)"""
    for b, a, gamma in [(8, 3, 0.99), (32, 5, 0.9), (2, 2, 0.0), (16, 4, 1.0)]:
        rewards, q1, _, dones = _batch(rng, b, a)
        for d in (dones, dones.float()):
            got = submission.td_targets(rewards, q1, d, gamma)
            assert_close(got, reference.td_targets(rewards, q1, d, gamma), what=f"td_targets (dones as {d.dtype})")


@pytest.mark.points(2)
def test_double_dqn_targets(submission, reference, rng):
    """double_dqn_targets against the reference (online argmax, target evaluation, ties, terminals)"""
    for b, a, gamma in [(8, 3, 0.99), (32, 5, 0.9), (16, 4, 1.0)]:
        rewards, q1, q2, dones = _batch(rng, b, a)
        for d in (dones, dones.float()):
            got = submission.double_dqn_targets(rewards, q1, q2, d, gamma)
            expected = reference.double_dqn_targets(rewards, q1, q2, d, gamma)
            assert_close(got, expected, what=f"double_dqn_targets (dones as {d.dtype})")


@pytest.mark.points(3)
def test_replay_buffer(submission):
    """ReplayBuffer: length, wrap-around keeps the newest transitions, no repeats, tensor types"""
    buf = submission.ReplayBuffer(5, 123)
    assert len(buf) == 0, "a new buffer should be empty"
    for i in range(8):
        buf.push(torch.full((3,), float(i)), i % 2, float(i), torch.full((3,), float(i + 1)), i == 7)
        assert len(buf) == min(i + 1, 5), "len(buffer) is wrong while filling or after wrap-around"
    s, a, r, s2, d = buf.sample(5)
    for t, dt, shape, name in [(s, torch.float32, (5, 3), "states"), (a, torch.long, (5,), "actions"),
                               (r, torch.float32, (5,), "rewards"), (s2, torch.float32, (5, 3), "next_states"),
                               (d, torch.float32, (5,), "dones")]:
        assert type(t) is torch.Tensor and t.dtype == dt and tuple(t.shape) == shape, \
            f"sample: {name} should be a {dt} tensor of shape {shape}"
    assert sorted(r.tolist()) == [3.0, 4.0, 5.0, 6.0, 7.0], \
        "after 8 pushes into a buffer of capacity 5 it should hold exactly the 5 newest transitions"
    for row in range(5):
        k = r[row].item()
        assert s[row].tolist() == [k] * 3 and s2[row].tolist() == [k + 1] * 3 and a[row].item() == int(k) % 2 \
            and d[row].item() == float(k == 7), "a sampled transition mixes fields of different pushes"
    seen = set()
    for _ in range(30):
        r3 = buf.sample(3)[2].tolist()
        assert len(set(r3)) == 3, "a sample should not contain the same transition twice"
        seen.update(r3)
    assert seen == {3.0, 4.0, 5.0, 6.0, 7.0}, "repeated samples should reach every stored transition"
    with pytest.raises(ValueError):
        buf.sample(6)


@pytest.mark.points(1)
def test_greedy_policy(submission, rng):
    """greedy_policy: argmax per state, ties to the lowest index, Python ints"""
    q = torch.randint(0, 3, (30, 4), generator=rng).float()
    got = submission.greedy_policy(q)
    expected = [int(torch.nonzero(row == row.max())[0]) for row in q]
    assert_close(got, expected, what="greedy_policy")


@pytest.mark.points(4)
@pytest.mark.call_timeout(120)
def test_q_learning_finds_shortest_path(submission, remote, helpers, seed):
    """q_learning: the greedy policy of the learned Q follows a shortest path on several grids"""
    for k, grid in enumerate(GRIDS):
        env = remote.construct("helpers.GridWorld", **grid)
        q = submission.q_learning(env, 150, 0.5, 0.95, 0.1, seed + k)
        local = helpers.GridWorld(**grid)
        assert type(q) is torch.Tensor and q.dtype == torch.float32 and tuple(q.shape) == (local.n_states, 4), \
            "q_learning should return a float32 tensor [n_states, n_actions]"
        policy = [int(a) for a in q.argmax(dim=1)]
        assert helpers.rollout_length(local, policy) == helpers.shortest_distance(local), \
            f"on grid #{k + 1} the greedy policy does not follow a shortest path from the start to the goal"
