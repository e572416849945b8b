"""Reference solution for q25: the building blocks of (deep) Q-learning."""
from __future__ import annotations

import random

import torch


def epsilon_greedy(q_values: torch.Tensor, epsilon: float, generator: torch.Generator) -> int:
    """With probability epsilon a uniformly random action (any action, the greedy one included),
    otherwise the greedy action (ties go to the lowest index)."""
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError("epsilon must lie in [0, 1]")
    n = q_values.shape[0]
    if torch.rand((), generator=generator).item() < epsilon:
        return int(torch.randint(0, n, (), generator=generator))
    # torch.argmax returns the first maximal index
    return int(torch.argmax(q_values))


def td_targets(rewards, next_q_target, dones, gamma):
    """y = r + gamma * (1 - done) * max_a Q_target(s', a): no bootstrapping past a terminal state."""
    return rewards.to(torch.float32) + gamma * next_q_target.max(dim=1).values


def double_dqn_targets(rewards, next_q_online, next_q_target, dones, gamma):
    """Double DQN: the online network chooses a' = argmax Q_online(s', .), the target network evaluates it."""
    best = next_q_online.argmax(dim=1, keepdim=True)                 # first maximal index on ties
    value = next_q_target.gather(1, best).squeeze(1)
    not_done = 1.0 - dones.to(torch.float32)
    return rewards.to(torch.float32) + gamma * not_done * value


class ReplayBuffer:
    """Fixed-capacity circular buffer: once full, each push overwrites the oldest transition."""

    def __init__(self, capacity: int, seed: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.storage: list = []
        self.next_index = 0                                          # where the next push goes
        self.generator = torch.Generator().manual_seed(seed)

    def push(self, state, action, reward, next_state, done) -> None:
        item = (torch.as_tensor(state, dtype=torch.float32), int(action), float(reward),
                torch.as_tensor(next_state, dtype=torch.float32), float(bool(done)))
        if len(self.storage) < self.capacity:
            self.storage.append(item)
        else:
            self.storage[self.next_index] = item
        self.next_index = (self.next_index + 1) % self.capacity

    def sample(self, batch_size: int):
        if batch_size > len(self.storage) or batch_size <= 0:
            raise ValueError("batch_size must be between 1 and len(buffer)")
        # a random permutation's prefix: no transition twice in one sample
        idx = torch.randperm(len(self.storage), generator=self.generator)[:batch_size].tolist()
        batch = [self.storage[i] for i in idx]
        states = torch.stack([b[0] for b in batch])
        actions = torch.tensor([b[1] for b in batch], dtype=torch.long)
        rewards = torch.tensor([b[2] for b in batch], dtype=torch.float32)
        next_states = torch.stack([b[3] for b in batch])
        dones = torch.tensor([b[4] for b in batch], dtype=torch.float32)
        return states, actions, rewards, next_states, dones

    def __len__(self) -> int:
        return len(self.storage)


def q_learning(env, episodes: int, alpha: float, gamma: float, epsilon: float, seed: int) -> torch.Tensor:
    """Tabular Q-learning with epsilon-greedy exploration; Q starts at zero.

    The table is kept as Python lists while learning: per-element tensor operations would make
    every environment step dozens of times slower.
    """
    rnd = random.Random(seed)
    q = [[0.0] * env.n_actions for _ in range(env.n_states)]
    for _ in range(episodes):
        s = env.reset()
        done = False
        while not done:
            if rnd.random() < epsilon:                      # explore: any action, uniformly
                a = rnd.randrange(env.n_actions)
            else:                                           # exploit: first maximal action
                a = q[s].index(max(q[s]))
            s2, r, done = env.step(a)
            # off-policy target: the greedy value of the next state (0 past the end of an episode)
            target = r + (0.0 if done else gamma * max(q[s2]))
            q[s][a] += alpha * (target - q[s][a])
            s = s2
    return torch.tensor(q, dtype=torch.float32)


def greedy_policy(q: torch.Tensor) -> list[int]:
    """The greedy action of every state (ties go to the lowest index)."""
    return [int(a) for a in q.argmax(dim=1)]
