"""Search strategies over source variants, all spending the same budget: one LLM code answer = one unit.

- single: one model, repeated sampling of rewrites of the original (the baseline);
- moa: Mixture-of-Agents (Wang et al. 2024), in layers: a layer of proposer agents (`agents`: the team's small
  models at their own temperatures; plain rewrites of the original in the first layer, each asked for another
  kind of fix in later ones), then, when at least two of them passed, the larger model aggregates the passing
  candidates (shown with their measured verdicts) into one; the next layer's proposers rewrite the best version
  so far, shown the previous layer's candidates with their measured verdicts (speedup or failure); the run
  stops after `layers` layers, when the budget is spent, or early when a layer brings no candidate better than a
  speedup already found;
- ga: a genetic algorithm: a population of variants, fitness = the confirmed speedup (a child significantly
  faster at screening is re-timed with CONFIRM_REPEAT fresh runs; only a significant speedup counts, a
  passing variant otherwise scores at most 1, a failing one 0), tournament selection, mutation = an LLM
  rewrite (the proposer agents, in turn), crossover = an LLM merge of two parents (larger model), elitism,
  and de-duplication of identical programs.
"""

from __future__ import annotations

import ast
import random
import time
from dataclasses import dataclass
from typing import Callable

from litecoop.llm.team import ChatModel, PromptTooLong, Team
from litecoop.codeopt import prompts
from litecoop.codeopt.evaluate import Evaluation, Evaluator
from litecoop.codeopt.meta import Prompter

STRATEGIES = ("single", "moa", "ga")
CONFIRM_REPEAT = 20
TEMPERATURES = (0.6, 0.8, 1.0)  # the agents' sampling temperatures, in turn
SINGLE_TEMPERATURE = 0.8


@dataclass(frozen=True)
class Agent:
    """A proposer (MoA) or mutator (GA): a team model asked for one kind of fix (`role`, a key of
    `prompts.ROLES[lang]`; "" for none) at its own sampling `temperature`. Diversity comes from roles and
    temperatures as well as from models (as MPCO's per-model prompts do), so a team of one model still has
    several agents."""

    model: ChatModel
    role: str = ""
    temperature: float = SINGLE_TEMPERATURE


def agents(models: list[ChatModel], lang: str) -> list[Agent]:
    """One agent per role of `lang`, the models taken in turn, temperatures in turn from TEMPERATURES."""
    return [Agent(models[i % len(models)], role, TEMPERATURES[i % len(TEMPERATURES)])
            for i, role in enumerate(prompts.ROLES[lang])]


@dataclass
class Candidate:
    """One validated variant. `origin`: how it was made (e.g. "ga-crossover"); seconds are LLM + validation;
    `confirmation`: its re-timing with CONFIRM_REPEAT runs, if any."""

    source: str
    origin: str
    model: str
    evaluation: Evaluation
    llm_s: float
    validation_s: float
    confirmation: Evaluation | None = None
    role: str = ""

    @property
    def fitness(self) -> float:
        """The speedup if significant (confirmed, where re-timed), at most 1.0 if it only passed, 0.0 if it failed."""
        e = self.confirmation or self.evaluation
        return e.speedup if e.significant else (min(1.0, e.speedup) if e.passed else 0.0)

    def note(self) -> str:
        """The screening verdict as a phrase for prompts: "passed, N.NNx faster than the original" or "failed: ..."."""
        e = self.evaluation
        return f"passed, {e.speedup:.2f}x faster than the original" if e.passed else f"failed: {e.failure}"


def normalized(source: str, lang: str) -> str:
    """A key equal for programs that differ only in formatting and comments (Python: the AST)."""
    if lang == "python":
        try:
            return ast.dump(ast.parse(source))
        except SyntaxError:
            pass
    return " ".join(line.split("//")[0].strip() for line in source.splitlines() if line.strip())


class Pool:
    """Asks models for code, validates each answer once, and keeps every candidate (the run's history).

    `budget` counts LLM code answers; `on_candidate` is called after each (progress display). A prompt too long
    for its model is skipped: it spends its unit, counts in `too_long`, and `warn` gets a one-line message.
    """

    def __init__(self, team: Team, evaluator: Evaluator, prompter: Prompter, budget: int, seed: int = 0,
                 on_candidate: Callable[[Candidate], None] | None = None, warn: Callable[[str], None] = print):
        self.team, self.evaluator, self.prompter, self.budget = team, evaluator, prompter, budget
        self.task = evaluator.task
        self.rng = random.Random(seed)
        self.seed = seed
        self.spent = 0
        self.too_long = 0
        self.warn = warn
        self.candidates: list[Candidate] = []
        self._seen: dict[str, Candidate] = {}
        self.on_candidate = on_candidate or (lambda candidate: None)
        self.original = Candidate(self.task.source, "original", "-", Evaluation(True, speedup=1.0), 0.0, 0.0)
        self.max_tokens = 100 + len(prompts.shown_code(self.task.lang, self.task.source, self.task.entry)) // 2

    @property
    def left(self) -> int:
        """LLM code answers left in the budget."""
        return self.budget - self.spent

    def ask(self, model: ChatModel, user: str, origin: str, temperature: float = SINGLE_TEMPERATURE,
            role: str = "") -> Candidate | None:
        """One LLM answer, spliced into the file (Python), de-duplicated and validated; None if unusable."""
        self.spent += 1
        start = time.perf_counter()
        try:
            answer = model.ask_code(self.prompter.system_for(model), user, max_tokens=self.max_tokens,
                                    temperature=temperature, seed=self.seed * 1000 + self.spent)
        except PromptTooLong as err:
            self.too_long += 1
            self.warn(f"skipped {origin} call: {err}")
            return None
        llm_s = time.perf_counter() - start
        if answer is None:
            return None
        source = prompts.splice(self.task.source, answer) if self.task.lang == "python" else answer
        key = normalized(source, self.task.lang)
        if key in self._seen or key == normalized(self.task.source, self.task.lang):
            model.usage.duplicate += 1
            return self._seen.get(key)
        start = time.perf_counter()
        candidate = Candidate(source, origin, model.name, self.evaluator.evaluate(source), llm_s,
                              time.perf_counter() - start, role=role)
        self._seen[key] = candidate
        self.candidates.append(candidate)
        self.on_candidate(candidate)
        return candidate

    def rewrite(self, agent: Agent, parent: Candidate, origin: str) -> Candidate | None:
        """A rewrite of `parent` by `agent` (its model, role and temperature), told the parent's verdict unless
        it is the original; see `ask`."""
        note = "" if parent is self.original else f"This version {parent.note()}."
        return self.ask(agent.model, prompts.rewrite_request(self.task.lang, self.prompter.contexts, parent.source,
                                                             self.task.entry, note, agent.role),
                        origin, agent.temperature, agent.role)

    def propose(self, agent: Agent, base: Candidate, previous: list[Candidate], origin: str) -> Candidate | None:
        """A rewrite of `base` shown `previous` (the last MoA layer) with their verdicts; a plain rewrite if none."""
        shown = [(c.source, c.note()) for c in previous if c.source != base.source]
        if not shown:
            return self.rewrite(agent, base, origin)
        note = "" if base is self.original else f"This version {base.note()}."
        return self.ask(agent.model, prompts.layer_request(self.task.lang, self.prompter.contexts, base.source,
                                                           self.task.entry, note, shown, agent.role),
                        origin, agent.temperature, agent.role)

    def merge(self, model: ChatModel, parents: list[Candidate], origin: str) -> Candidate | None:
        """One program merged from `parents`, shown with their verdicts, by `model` (MoA aggregation, GA crossover);
        see `ask`."""
        shown = [(p.source, "the original" if p is self.original else p.note()) for p in parents]
        return self.ask(model, prompts.merge_request(self.task.lang, self.prompter.contexts, shown, self.task.entry),
                        origin)

    def confirm(self, candidate: Candidate) -> None:
        """Re-time a candidate significantly faster at screening with CONFIRM_REPEAT fresh interleaved runs."""
        if candidate.evaluation.significant and candidate.confirmation is None:
            start = time.perf_counter()
            candidate.confirmation = self.evaluator.evaluate(candidate.source, repeat=CONFIRM_REPEAT)
            candidate.validation_s += time.perf_counter() - start

    def best(self) -> Candidate:
        """The passed candidate of highest fitness (ties: the higher screening speedup), else the original."""
        passed = [c for c in self.candidates if c.evaluation.passed]
        return max(passed, key=lambda c: (c.fitness, c.evaluation.speedup), default=self.original)


def run_single(pool: Pool, model: ChatModel) -> None:
    """Repeated sampling of one model from the original (no role, SINGLE_TEMPERATURE)."""
    while pool.left > 0:
        pool.rewrite(Agent(model), pool.original, "single")


def run_moa(pool: Pool, proposers: list[Agent], aggregator: ChatModel, layers: int | None = None) -> list[int]:
    """Layers of proposers, each followed by one aggregation when it has something to compose, until `layers`
    layers (None: no limit) or the budget is spent, or early when a layer brings no candidate better than a
    speedup already found. The first layer explores: plain rewrites of the original (no role, as `single` asks)
    at the proposers' temperatures. Later layers refine: each proposer, with its role, rewrites the best
    version so far, shown the previous layer's candidates with their verdicts. The aggregator is asked only
    when at least two of a layer's candidates passed (merging one passing program with failures composes
    nothing); otherwise its unit goes to the next layer. Returns the LLM answers spent per layer."""
    base, previous, spent = pool.original, [], []
    while pool.left > 0 and (layers is None or len(spent) < layers):
        before, start = pool.best(), pool.spent
        layer_agents = proposers if spent else [Agent(agent.model, "", agent.temperature) for agent in proposers]
        layer = [c for agent in layer_agents[:pool.left] if (c := pool.propose(agent, base, previous, "moa-proposer"))]
        passing = [c for c in layer if c.evaluation.passed]
        if pool.left > 0 and len(passing) >= 2:
            aggregate = pool.merge(aggregator, [base, *passing], "moa-aggregate")
            layer += [aggregate] if aggregate and aggregate not in layer else []
        spent.append(pool.spent - start)
        best = pool.best()
        if best.fitness <= before.fitness and before.fitness > 1.0:
            break  # a refining layer brought nothing better: stop early (MoA's stopping rule)
        base, previous = best, layer
    return spent


def run_ga(pool: Pool, mutators: list[Agent], crossover: ChatModel, population_size: int = 4,
           crossover_rate: float = 0.5) -> None:
    """Generations of a steady population with elitism (the best variant always survives)."""
    population = [pool.original]
    turn = 0
    while pool.left > 0:
        fit = [c for c in population if c.fitness > 0]

        def tournament() -> Candidate:
            return max(pool.rng.sample(fit, min(2, len(fit))), key=lambda c: c.fitness)
        distinct = len({c.source for c in fit}) >= 2
        if distinct and pool.rng.random() < crossover_rate:
            first, second = tournament(), tournament()
            while second is first:
                second = pool.rng.choice(fit)
            child = pool.merge(crossover, [first, second], "ga-crossover")
        else:
            child = pool.rewrite(mutators[turn % len(mutators)], tournament(), "ga-mutation")
            turn += 1
        if child is not None and child not in population:
            pool.confirm(child)
            population.append(child)
        population.sort(key=lambda c: -c.fitness)
        population = population[:population_size]


def run_strategy(name: str, pool: Pool, team: Team, single_model: str | None = None) -> list[int] | None:
    """Dispatch by strategy name (one of STRATEGIES). Returns MoA's LLM answers per layer, else None."""
    if name == "single":
        run_single(pool, team.by_name(single_model) if single_model else team.large)
    elif name == "moa":
        return run_moa(pool, agents(team.small, pool.task.lang), team.large)
    else:
        run_ga(pool, agents(team.small, pool.task.lang), team.large)
    return None
