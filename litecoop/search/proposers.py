"""Who proposes children of a tree node: MetaSchedule's random mutators, or an LLM of the team.

The LLM proposer is where LiteCoOp's routing lives: the acting model may name the next model, and after
`regressions_before_large` consecutive regressions by small models the larger model corrects course.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from litecoop.search import prompts
from litecoop.llm.team import ChatModel, Team
from litecoop.search.space import apply_edits, decision_sites
from litecoop.search.tree import Node, small_model_bonus


@dataclass
class Proposal:
    """A child trace to add under a node; `proposer` is a model name or "mutator"."""

    trace: object
    edits: dict
    proposer: str
    next_model: str | None = None


class MutatorProposer:
    """Random mutations drawn with MetaSchedule's mutator probabilities (tile size, unroll,
    compute location, parallel extent). Mutators must already be initialized with the task's TuneContext."""

    name = "mutator"

    def __init__(self, mutator_probs: dict, rng: random.Random):
        self.mutators = list(mutator_probs.keys())
        self.weights = [float(p) for p in mutator_probs.values()]
        self.rng = rng

    def mutate(self, trace):
        """One random mutation of `trace`, or None if the chosen mutator found nothing to change."""
        mutator = self.rng.choices(self.mutators, weights=self.weights)[0]
        return mutator.apply(trace)

    def propose(self, node: Node, count: int) -> list[Proposal]:
        """Up to `count` random mutations of the node's trace."""
        proposals = []
        for _ in range(count * 3):
            if len(proposals) == count:
                break
            trace = self.mutate(node.trace)
            if trace is not None:
                proposals.append(Proposal(trace, decision_diff(node.trace, trace), self.name))
        return proposals


def decision_diff(old, new) -> dict:
    """The tile/unroll decisions that differ between two traces of one sketch ({site: new value})."""
    before = {s.key: s.current for s in decision_sites(old, max_choices=1)}
    return {s.key: s.current for s in decision_sites(new, max_choices=1) if before.get(s.key) != s.current} or {"other": "mutated"}


class Router:
    """Which model of the team expands a node, as in LiteCoOp: the larger model after k
    (`regressions_before_large`) consecutive small-model regressions; else the model the node's proposer
    named; else the small models in turn. One router serves a whole run, every task of it (MetaSchedule
    clones the search strategy per task; the router is shared by the clones)."""

    def __init__(self, team: Team, regressions_before_large: int):
        self.team = team
        self.regressions_before_large = regressions_before_large
        self.small_regressions = 0
        self.turn = 0

    def choose(self, next_model: str | None) -> ChatModel:
        """The model for the next call; `next_model` is the name the expanded node's proposer suggested."""
        names = [m.name for m in self.team.models]
        if len(self.team.models) > 1 and self.small_regressions >= self.regressions_before_large:
            self.small_regressions = 0
            return self.team.large
        if next_model and next_model in names and next_model != self.team.large.name:
            return self.team.by_name(next_model)
        small = self.team.small
        self.turn += 1
        return small[self.turn % len(small)]

    def record(self, model: str, improved: bool) -> None:
        """Count a call's outcome: the model's regressions, and consecutive ones of small models (the
        course-correction trigger; an improvement resets it)."""
        self.team.by_name(model).usage.regressions += not improved
        if model != self.team.large.name:
            self.small_regressions = 0 if improved else self.small_regressions + 1


@dataclass
class LLMProposer:
    """Children proposed by LLMs of a team, the model chosen by the run's `router`.

    Answers are grammar constrained (see prompts.answer_schema); rejected edits are counted as invalid on
    the model's usage. `machine` (machine.MachineFacts or None) is described next to the decisions.
    """

    team: Team
    router: Router
    max_edits: int
    rng: random.Random
    machine: object = None
    last_model: str | None = None

    @property
    def model_names(self) -> list[str]:
        """The names of the team's models."""
        return [m.name for m in self.team.models]

    def propose(self, node: Node, tried: set, best_latency_s, target) -> list[Proposal]:
        """One LLM call: each edit of the answer is a child, and the edits of distinct sites together one more."""
        model = self.router.choose(node.next_model)
        self.last_model = model.name
        sites = decision_sites(node.trace, rng=self.rng)
        codes = prompts.menu(sites, tried, self.rng)
        aliases = prompts.model_aliases({m.name: m.parameters for m in self.team.models})
        schema = prompts.answer_schema(codes, list(aliases), self.max_edits)
        if schema is None:
            return []
        system, user = prompts.build_prompt(sites, node, codes, best_latency_s, list(aliases), target,
                                            self.max_edits, self.machine)
        answer = model.ask_json(system, user, schema,
                                max_tokens=prompts.answer_tokens(codes, list(aliases), self.max_edits),
                                grammar=prompts.answer_grammar(codes, list(aliases), self.max_edits))
        good, bad, next_model = prompts.parse_answer(answer, codes, aliases)
        model.usage.invalid += len(bad)
        proposals = [Proposal(apply_edits(node.trace, sites, {k: v}), {k: v}, model.name, next_model) for k, v in good]
        combined = dict(reversed(good))  # one value per site: the first named
        if len(combined) > 1:
            proposals.append(Proposal(apply_edits(node.trace, sites, combined), combined, model.name, next_model))
        return proposals

    def record(self, proposer: str, improved: bool) -> None:
        """Tell the router whether a call of `proposer` improved on its parent (ignored for non-models)."""
        if proposer in self.model_names:
            self.router.record(proposer, improved)

    def uct_bonus(self, node: Node) -> float:
        """phi of LiteCoOp's model-aware UCT (tree.small_model_bonus) for a node proposed by a model of the team,
        else 0."""
        if node.proposer not in self.model_names:
            return 0.0
        sizes = [m.parameters for m in self.team.models]
        return small_model_bonus(self.team.by_name(node.proposer).parameters, min(sizes), max(sizes))

    def judge_calls(self, expansions: list[tuple[str | None, Node, list[Node]]], best_before: float | None) -> None:
        """Tell the router, once a round is measured, whether each LLM call of the round (`expansions`: model,
        parent, vetted children) improved: one of its vetted children ran faster than their parent: its measured
        latency, else the latency its estimate predicts (else `best_before`, the best latency in seconds before
        the round). A call with no vetted child measured is a regression (LiteCoOp's course-correction signal)."""
        for model, parent, children in expansions:
            if model is not None:
                reference = parent.latency_s or (1.0 / parent.speed if parent.speed else best_before) or math.inf
                self.record(model, any(c.latency_s is not None and c.latency_s < reference for c in children))

    def usage_of(self, proposer: str):
        """The usage accounting of `proposer` when it is a model of the team, else None."""
        return self.team.by_name(proposer).usage if proposer in self.model_names else None


def sites_tried(node: Node) -> set[tuple[str, str]]:
    """(site, value) edits already made from `node` by its children."""
    return {pair for child in node.children for pair in child.edits.items()}

