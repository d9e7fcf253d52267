"""The shared search tree of LiteCoOp: nodes are traces, edges are decision edits, values are speedups.

Selection uses the model-aware UCT of LiteCoOp (Section 3 of the paper):

    score(child) = (1 - lam) * W/N + lam * phi(model) + c * sqrt(ln N_parent / N)

where W/N is the child's mean reward in [0, 1], `model` is the LLM that proposed the child and
phi(model) = log(P_max / P_model) / log(P_max / P_min) in [0, 1] favours smaller models
(P = parameter count). A node proposed by no LLM (a mutator, a sketch) gets phi = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(eq=False)
class Node:
    """A trace in the tree.

    `latency_s` is its measured latency (None until measured), `predicted` the cost model's score
    (normalized throughput, higher is better). `edits` are the decision changes from the parent,
    `proposer` the model (or "mutator") that proposed them, `next_model` the model it suggested next.
    `origin` is the proposer whose edit the node descends from: its own proposer, or for a rollout the
    parent's origin. `schedule` is the trace applied and postprocessed (what gets built); `issued` marks it
    sent to measure.
    """

    trace: object
    key: str
    parent: Node | None = None
    edits: dict = field(default_factory=dict)
    proposer: str = "sketch"
    origin: str = "sketch"
    next_model: str | None = None
    children: list = field(default_factory=list)
    visits: int = 0
    reward_sum: float = 0.0
    predicted: float = 0.0
    latency_s: float | None = None
    failed: bool = False
    schedule: object = None
    issued: bool = False

    def add_child(self, child: Node) -> Node:
        child.parent = self
        self.children.append(child)
        return child

    def path(self) -> list[Node]:
        """Ancestors from the root's first child down to this node."""
        node, nodes = self, []
        while node is not None and node.parent is not None:
            nodes.append(node)
            node = node.parent
        return nodes[::-1]

    @property
    def mean_reward(self) -> float:
        return self.reward_sum / self.visits if self.visits else 0.0


def small_model_bonus(parameters: float, smallest: float, largest: float) -> float:
    """phi in [0, 1]: 1 for the smallest model, 0 for the largest, linear in log(parameters)."""
    if largest <= smallest:
        return 0.0
    return math.log(largest / parameters) / math.log(largest / smallest)


def uct_score(child: Node, parent_visits: int, c: float, lam: float, bonus: float) -> float:
    """The model-aware UCT score of `child`; unvisited children score +inf so each is tried once."""
    if child.visits == 0:
        return math.inf
    exploit = (1 - lam) * child.mean_reward + lam * bonus
    return exploit + c * math.sqrt(math.log(max(parent_visits, 1)) / child.visits)


def select(root: Node, c: float, lam: float, bonus_of, max_children: int) -> Node:
    """Descend from `root` by UCT to the first node below the root that can still take a child
    (fewer than `max_children`) or has none. `bonus_of(node)` gives phi for the node's proposer."""
    node = root
    while node.children and (node is root or len(node.children) >= max_children):
        live = [child for child in node.children if not child.failed] or node.children
        node = max(live, key=lambda ch: uct_score(ch, node.visits, c, lam, bonus_of(ch)))
    return node


def backpropagate(node: Node, reward: float) -> None:
    """Add `reward` (in [0, 1]) to `node` and every ancestor."""
    while node is not None:
        node.visits += 1
        node.reward_sum += reward
        node = node.parent
