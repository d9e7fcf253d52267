"""The shared search tree of LiteCoOp: nodes are traces, edges are decision edits, values are speeds.

Every node carries an estimate of its speed (1 / latency, in 1/s) from the moment it enters the tree: the
cost model's prediction (the Reasoning Compiler's rollout value), replaced by the measured speed once it is
built and timed. A node's value is the mean estimated speed over its subtree divided by the task's best
measured speed, computed when read, so a value does not depend on when its nodes were measured.

Selection uses the model-aware UCT of LiteCoOp (Section 3 of the paper):

    score(child) = (1 - lam) * value + lam * phi(model) + c * sqrt(ln N_parent / N)

where N counts the estimates in a subtree, `model` is the LLM that proposed the child and
phi(model) = log(P_max / P_model) / log(P_max / P_min) in [0, 1] favours smaller models
(P = parameter count). A node proposed by no LLM (a mutator, a sketch) gets phi = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(eq=False)
class Node:
    """A trace in the tree.

    `latency_s` is its measured latency (None until measured), `predicted` the cost model's last score
    (normalized throughput, higher is faster) and `speed` its own estimate in 1/s (measured, else predicted;
    None before either). `visits` and `speed_sum` count and sum the estimates of the node's subtree.
    `edits` are the decision changes from the parent, `proposer` the model (or "mutator") that proposed
    them, `next_model` the model it suggested next. `origin` is the proposer whose edit the node descends
    from: its own proposer, or for a rollout the parent's origin. `schedule` is the trace applied and
    postprocessed (what gets built); `sent` marks it sent to be measured, `retired` left out of re-scoring.
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
    speed_sum: float = 0.0
    speed: float | None = None
    predicted: float = 0.0
    latency_s: float | None = None
    failed: bool = False
    schedule: object = None
    sent: bool = False
    retired: bool = False

    def add_child(self, child: Node) -> Node:
        """Attach `child` under this node; returns it."""
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

    def value(self, best_speed: float) -> float:
        """Mean estimated speed of the subtree relative to `best_speed` (1/s): about 1 for a subtree as fast as
        the best measured trace; 0 for one never estimated."""
        return self.speed_sum / self.visits / best_speed if self.visits and best_speed > 0 else 0.0


def estimate(node: Node, speed: float) -> None:
    """Set `node`'s own speed estimate (1/s) and update the subtree sums of it and its ancestors: a node's
    first estimate adds a visit along the path; a later one (a measurement replacing a prediction, or a
    re-prediction) replaces the earlier one."""
    first = node.speed is None
    delta = speed - (node.speed or 0.0)
    node.speed = speed
    while node is not None:
        node.visits += first
        node.speed_sum += delta
        node = node.parent


def small_model_bonus(parameters: float, smallest: float, largest: float) -> float:
    """phi in [0, 1]: 1 for the smallest model, 0 for the largest, linear in log(parameters)."""
    if largest <= smallest:
        return 0.0
    return math.log(largest / parameters) / math.log(largest / smallest)


def uct_score(child: Node, parent_visits: int, c: float, lam: float, bonus: float, best_speed: float) -> float:
    """The model-aware UCT score of `child`; a child without an estimate scores +inf, so it is tried once."""
    if child.visits == 0:
        return math.inf
    exploit = (1 - lam) * child.value(best_speed) + lam * bonus
    return exploit + c * math.sqrt(math.log(max(parent_visits, 1)) / child.visits)


def select(root: Node, c: float, lam: float, bonus_of, max_children: int, best_speed: float) -> Node:
    """Descend from `root` by UCT to the first node below the root that can still take a child
    (fewer than `max_children`) or has none. `bonus_of(node)` gives phi for the node's proposer;
    `best_speed` (1/s) normalizes the values."""
    node = root
    while node.children and (node is root or len(node.children) >= max_children):
        live = [child for child in node.children if not child.failed] or node.children
        node = max(live, key=lambda ch: uct_score(ch, node.visits, c, lam, bonus_of(ch), best_speed))
    return node
