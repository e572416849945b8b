"""Public helpers for q25: a deterministic GridWorld and a shortest-path oracle."""
from __future__ import annotations

from collections import deque

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
MOVES = {UP: (-1, 0), RIGHT: (0, 1), DOWN: (1, 0), LEFT: (0, -1)}


class GridWorld:
    """A height x width grid. State = row * width + col. Actions 0 up, 1 right, 2 down, 3 left.

    Moving off the grid or into a wall leaves the agent where it is. Every step gives reward -1;
    reaching ``goal`` ends the episode (done=True). An episode is also cut (done=True) after
    ``max_steps`` steps. ``reset()`` puts the agent on ``start`` and returns that state.
    """

    def __init__(self, height: int, width: int, start: tuple[int, int], goal: tuple[int, int],
                 walls: list[tuple[int, int]] | tuple = (), max_steps: int = 100) -> None:
        self.height, self.width = int(height), int(width)
        self.start, self.goal = tuple(start), tuple(goal)
        self.walls = {tuple(w) for w in walls}
        self.max_steps = int(max_steps)
        self.n_states = self.height * self.width
        self.n_actions = 4
        self._pos = self.start
        self._t = 0

    def state_of(self, row: int, col: int) -> int:
        return row * self.width + col

    def reset(self) -> int:
        self._pos, self._t = self.start, 0
        return self.state_of(*self._pos)

    def move(self, pos: tuple[int, int], action: int) -> tuple[int, int]:
        """The cell reached from ``pos`` with ``action`` (no side effects)."""
        dr, dc = MOVES[int(action)]
        r, c = pos[0] + dr, pos[1] + dc
        if not (0 <= r < self.height and 0 <= c < self.width) or (r, c) in self.walls:
            return pos
        return (r, c)

    def step(self, action: int) -> tuple[int, float, bool]:
        """(next_state, reward, done)."""
        self._pos = self.move(self._pos, action)
        self._t += 1
        done = self._pos == self.goal or self._t >= self.max_steps
        return self.state_of(*self._pos), -1.0, done


def shortest_distance(env: GridWorld, frm: tuple[int, int] | None = None) -> int:
    """Fewest steps from ``frm`` (default: start) to the goal, by breadth-first search (-1 if unreachable)."""
    frm = env.start if frm is None else tuple(frm)
    seen, queue = {frm: 0}, deque([frm])
    while queue:
        pos = queue.popleft()
        if pos == env.goal:
            return seen[pos]
        for a in MOVES:
            nxt = env.move(pos, a)
            if nxt not in seen:
                seen[nxt] = seen[pos] + 1
                queue.append(nxt)
    return -1


def rollout_length(env: GridWorld, policy: list[int], limit: int = 200) -> int:
    """Steps the deterministic ``policy`` (one action per state) takes from start to the goal (-1 if never)."""
    pos = env.start
    for t in range(limit):
        if pos == env.goal:
            return t
        pos = env.move(pos, policy[env.state_of(*pos)])
    return -1
