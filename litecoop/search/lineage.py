"""Lineage accounting of the tree search: per origin (the proposer whose edit a node descends from), what its
nodes became over a run, all tasks together."""

from __future__ import annotations

from dataclasses import dataclass

from litecoop.search.tree import Node


@dataclass
class LineageOutcome:
    """What the nodes descending from one proposer's edits became, over a run (all tasks).

    `added`: nodes that joined the tree (the proposer's own children and the rollouts below them);
    `measured`: of those, trials built and measured; `new_bests`: trials faster than every earlier trial of
    their task (a task's first trial excluded). `own_measured` and `own_new_bests` count the proposer's own
    children only. `expansions`: the tree expansions the proposer made as the round's policy (an LLM call, or the
    mutators where no LLM was asked)."""

    expansions: int = 0
    added: int = 0
    measured: int = 0
    new_bests: int = 0
    own_measured: int = 0
    own_new_bests: int = 0


def outcome_of(outcomes: dict[str, LineageOutcome], origin: str) -> LineageOutcome:
    """The outcome of `origin` in `outcomes` ({origin: LineageOutcome}), added empty on first use."""
    return outcomes.setdefault(origin, LineageOutcome())


def count_trial(outcomes: dict[str, LineageOutcome], node: Node, improved: bool) -> None:
    """Count a measured trial of `node` against its lineage; `improved`: it beat every earlier trial of its task."""
    outcome = outcome_of(outcomes, node.origin)
    own = node.proposer == node.origin
    outcome.measured += 1
    outcome.own_measured += own
    outcome.new_bests += improved
    outcome.own_new_bests += improved and own
