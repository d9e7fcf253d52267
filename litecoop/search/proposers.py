"""Who proposes children of a tree node: MetaSchedule's random mutators, or an LLM of the team.

The LLM proposer is where LiteCoOp's routing lives: the acting model may name the next model, and after
`regressions_before_large` consecutive regressions by small models the larger model corrects course. What a
regression is follows the `regression_rule` setting: `LLMProposer.judge_calls` ("round") or
`LLMProposer.judge_answer` ("paper"). The router also holds the run's LLM call budget (`llm_call_budget`).
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
    """A child trace to add under a node; `proposer` is a model name or "mutator". `answer` marks the proposal
    that applies an LLM call's whole answer (the child the paper's regression rule judges)."""

    trace: object
    edits: dict
    proposer: str
    next_model: str | None = None
    answer: bool = False


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
    named (a small one: the larger model is called by the router only); else the small models in turn. The
    larger model's own outcomes neither count toward k nor reset it; choosing it starts the count afresh.
    One router serves a whole run, every task of it (MetaSchedule clones the search strategy per task; the
    router is shared by the clones), and counts the run's calls against `call_budget` (0: no limit)."""

    def __init__(self, team: Team, regressions_before_large: int, call_budget: int = 0):
        self.team = team
        self.regressions_before_large = regressions_before_large
        self.call_budget = call_budget
        self.small_regressions = 0
        self.turn = 0
        self.calls = 0

    @property
    def spent(self) -> bool:
        """Whether the run's LLM call budget is spent (never without one)."""
        return 0 < self.call_budget <= self.calls

    def choose(self, next_model: str | None) -> ChatModel:
        """The model for the next call (counted against the budget); `next_model` is the name the expanded
        node's proposer suggested."""
        self.calls += 1
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

    def propose(self, node: Node, tried: set, best_latency_s, target) -> list[Proposal] | None:
        """One LLM call: each edit of the answer is a child, and the edits of distinct sites together one more
        (marked `answer`: the whole answer; for a one-site answer, its first-named edit). None once the run's call
        budget is spent (the caller expands with mutators); [] without a legal option (no call made)."""
        self.last_model = None  # the model of the call made, if one is
        if self.router.spent:
            return None
        sites = decision_sites(node.trace, rng=self.rng)
        codes = prompts.menu(sites, tried, self.rng)
        aliases = prompts.model_aliases({m.name: m.parameters for m in self.team.models})
        schema = prompts.answer_schema(codes, list(aliases), self.max_edits)
        if schema is None:
            return []
        model = self.router.choose(node.next_model)
        self.last_model = model.name
        system, user = prompts.build_prompt(sites, node, codes, best_latency_s, list(aliases), target,
                                            self.max_edits, self.machine)
        answer = model.ask_json(system, user, schema,
                                max_tokens=prompts.answer_tokens(codes, list(aliases), self.max_edits),
                                grammar=prompts.answer_grammar(codes, list(aliases), self.max_edits))
        good, bad, next_model = prompts.parse_answer(answer, codes, aliases)
        model.usage.invalid += len(bad)
        combined = dict(reversed(good))  # one value per site: the first named
        proposals = [Proposal(apply_edits(node.trace, sites, {k: v}), {k: v}, model.name, next_model,
                              answer={k: v} == combined) for k, v in good]
        if len(combined) > 1:
            proposals.append(Proposal(apply_edits(node.trace, sites, combined), combined, model.name, next_model, True))
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
        """The "round" rule (default.toml; "paper" uses `judge_answer`): tell the router, once a round is
        measured, whether each LLM call of the round (`expansions`: model, parent, vetted children) improved: one
        of its vetted children ran faster than their parent: its measured latency, else the latency its estimate
        predicts (else `best_before`, the best latency in seconds before the round). A call with no vetted child
        measured is a regression (LiteCoOp's course-correction signal)."""
        for model, parent, children in expansions:
            if model is not None:
                reference = parent.latency_s or (1.0 / parent.speed if parent.speed else best_before) or math.inf
                self.record(model, any(c.latency_s is not None and c.latency_s < reference for c in children))

    def judge_answer(self, model: str, answer: Node | None, vetted: list[Node]) -> None:
        """The paper's rule ("round" keeps `judge_calls`): a proposal regresses when its child is not faster
        than its parent. One call is one proposal, its answer, whose edits the prompt asks to make the schedule
        faster together; its child is `answer`, the node of the whole answer (None when that one was illegal or a
        duplicate: a regression). The per-edit siblings are this project's decomposition of the answer and are
        not judged: counting each would make one bad answer several regressions (k reached inside one call), and
        taking the best of up to four would let one lucky edit hide a bad answer, so that regressions in a row
        almost never happen (with the "round" rule the larger model made 0% of calls). The call is judged as
        soon as its children are valued, before any is measured, so by the cost model's estimate: faster =
        scored above the parent in the same cost-model call (`vetted`, TreeSearch._vet: the model's bias
        cancels); the next expansion, in the same round, is routed on the verdict."""
        self.record(model, answer is not None and any(child is answer for child in vetted))

    def usage_of(self, proposer: str):
        """The usage accounting of `proposer` when it is a model of the team, else None."""
        return self.team.by_name(proposer).usage if proposer in self.model_names else None


def sites_tried(node: Node) -> set[tuple[str, str]]:
    """(site, value) edits already made from `node` by its children."""
    return {pair for child in node.children for pair in child.edits.items()}

