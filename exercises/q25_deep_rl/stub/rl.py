"""q25: the building blocks of (deep) Q-learning. Fill in the bodies."""
from __future__ import annotations

import torch


def epsilon_greedy(q_values: torch.Tensor, epsilon: float, generator: torch.Generator) -> int:
    """With probability epsilon a uniformly random action among all actions, else the greedy one
    (ties to the lowest index). ValueError unless 0 <= epsilon <= 1. Draw randomness from ``generator``."""
    raise NotImplementedError


def td_targets(rewards: torch.Tensor, next_q_target: torch.Tensor, dones: torch.Tensor,
               gamma: float) -> torch.Tensor:
    """rewards [B], next_q_target [B, A], dones [B] (bool or float) -> float32 [B]:
    r + gamma * (1 - done) * max_a next_q_target."""
    raise NotImplementedError


def double_dqn_targets(rewards: torch.Tensor, next_q_online: torch.Tensor, next_q_target: torch.Tensor,
                       dones: torch.Tensor, gamma: float) -> torch.Tensor:
    """r + gamma * (1 - done) * next_q_target[a*], a* = argmax next_q_online (ties to the lowest index)."""
    raise NotImplementedError


class ReplayBuffer:
    """Circular experience replay of fixed capacity; sampling without repeats, randomness from ``seed``."""

    def __init__(self, capacity: int, seed: int) -> None:
        raise NotImplementedError

    def push(self, state, action, reward, next_state, done) -> None:
        raise NotImplementedError

    def sample(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(states float32 [B, ...], actions int64 [B], rewards float32 [B], next_states float32 [B, ...],
        dones float32 [B]); ValueError if batch_size > len(self)."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


def q_learning(env, episodes: int, alpha: float, gamma: float, epsilon: float, seed: int) -> torch.Tensor:
    """Tabular Q-learning on a helpers.GridWorld; returns Q as float32 [env.n_states, env.n_actions]."""
    raise NotImplementedError


def greedy_policy(q: torch.Tensor) -> list[int]:
    """The greedy action of each state (row of q), ties to the lowest index, as Python ints."""
    raise NotImplementedError
