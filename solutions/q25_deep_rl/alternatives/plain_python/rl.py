"""Alternative q25 solution: plain Python lists and loops, a deque-free ring buffer."""
import random

import torch


def epsilon_greedy(q_values, epsilon, generator):
    if epsilon < 0 or epsilon > 1:
        raise ValueError(f"epsilon={epsilon} outside [0, 1]")
    values = q_values.tolist()
    u = float(torch.rand(1, generator=generator)[0])
    if u < epsilon:
        return int(torch.randint(len(values), (1,), generator=generator)[0])
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def _max_rows(q):
    return torch.tensor([max(row) for row in q.tolist()], dtype=torch.float32)


def td_targets(rewards, next_q_target, dones, gamma):
    out = []
    for r, row, d in zip(rewards.tolist(), next_q_target.tolist(), dones.tolist()):
        out.append(r if d else r + gamma * max(row))
    return torch.tensor(out, dtype=torch.float32)


def double_dqn_targets(rewards, next_q_online, next_q_target, dones, gamma):
    out = []
    for r, online, target, d in zip(rewards.tolist(), next_q_online.tolist(), next_q_target.tolist(), dones.tolist()):
        a = online.index(max(online))  # first maximum
        out.append(r if d else r + gamma * target[a])
    return torch.tensor(out, dtype=torch.float32)


class ReplayBuffer:
    def __init__(self, capacity, seed):
        self.capacity = capacity
        self.slots = [None] * capacity
        self.count = 0          # total pushes
        self.rand = random.Random(seed)

    def push(self, state, action, reward, next_state, done):
        self.slots[self.count % self.capacity] = (state, action, reward, next_state, done)
        self.count += 1

    def __len__(self):
        return min(self.count, self.capacity)

    def sample(self, batch_size):
        if batch_size > len(self):
            raise ValueError("not enough transitions")
        chosen = [self.slots[i] for i in self.rand.sample(range(len(self)), batch_size)]
        s, a, r, s2, d = zip(*chosen)
        return (torch.stack([torch.as_tensor(x, dtype=torch.float32) for x in s]),
                torch.tensor([int(x) for x in a], dtype=torch.int64),
                torch.tensor([float(x) for x in r], dtype=torch.float32),
                torch.stack([torch.as_tensor(x, dtype=torch.float32) for x in s2]),
                torch.tensor([1.0 if x else 0.0 for x in d], dtype=torch.float32))


def q_learning(env, episodes, alpha, gamma, epsilon, seed):
    rnd = random.Random(seed)
    Q = [[0.0] * env.n_actions for _ in range(env.n_states)]
    for _ in range(episodes):
        s, done = env.reset(), False
        while not done:
            if rnd.random() < epsilon:
                a = rnd.randrange(env.n_actions)
            else:
                a = Q[s].index(max(Q[s]))
            s2, r, done = env.step(a)
            target = r if done else r + gamma * max(Q[s2])
            Q[s][a] += alpha * (target - Q[s][a])
            s = s2
    return torch.tensor(Q, dtype=torch.float32)


def greedy_policy(q):
    return [row.index(max(row)) for row in q.tolist()]
