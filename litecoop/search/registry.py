"""The search strategies of `litecoop tune --strategy`, by name (MetaSchedule's `SearchStrategy.create` way).

A new strategy is one `Strategy` entry and one `register` call: its name, a one-line description (command
line help), which LLMs of the models preset it loads, whether it is a tree strategy (it takes a warm start
and sizes its batches to the time left), and how it builds its MetaSchedule SearchStrategy. Builders import
TVM and the LLM code when called, so that reading the registry (`litecoop --help`) loads neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from litecoop.errors import UserError

if TYPE_CHECKING:
    from litecoop.llm.team import Team
    from litecoop.search.settings import SearchSettings
    from litecoop.measure.timing import Deadline

ALL_MODELS, LARGEST_MODEL, NO_MODELS = "all", "largest", "none"  # which models of the preset a strategy loads


@dataclass(frozen=True)
class Setup:
    """What a strategy is built from: tree-search settings, the run's seed, the loaded LLM team (None without
    models), the TVM target, warm-start TuningRecords (best first) and the search's timing.Deadline."""

    settings: SearchSettings
    seed: int
    team: Team | None
    target: object
    warm_start: tuple
    deadline: Deadline | None


@dataclass(frozen=True)
class Strategy:
    """One registered strategy; `build(setup)` returns its MetaSchedule SearchStrategy."""

    name: str
    description: str
    models: str  # ALL_MODELS, LARGEST_MODEL or NO_MODELS
    tree: bool
    build: Callable[[Setup], object]


REGISTRY: dict[str, Strategy] = {}


def register(strategy: Strategy) -> Strategy:
    """Add `strategy` to the registry (registration order is the order of `names()`)."""
    REGISTRY[strategy.name] = strategy
    return strategy


def names() -> tuple[str, ...]:
    """Every strategy name, in registration order."""
    return tuple(REGISTRY)


def tree_names() -> tuple[str, ...]:
    """The names of the tree strategies (those that take a warm start)."""
    return tuple(name for name, strategy in REGISTRY.items() if strategy.tree)


def get(name: str) -> Strategy:
    """The strategy called `name`. Raises UserError for an unknown name."""
    if name not in REGISTRY:
        raise UserError(f"unknown strategy '{name}' (choose from {', '.join(names())})")
    return REGISTRY[name]


def make_team(name: str, preset: str, seed: int) -> Team | None:
    """The LLM team strategy `name` uses from the models `preset`: all its models, only its largest, or none
    (None). The models are loaded here, once per run and before any search (weights checked; the time goes to
    each model's `usage.load_s`). Raises UserError for an unknown name or a bad preset."""
    models = get(name).models
    if models == NO_MODELS:
        return None
    from litecoop.llm.team import Team

    team = Team(preset, seed=seed)
    if models == LARGEST_MODEL:
        team.models = [team.large]
    for model in team.models:
        model.load()
    return team


def create(name: str, settings: SearchSettings, seed: int, team: Team | None, target, warm_start: tuple = (),
           deadline: Deadline | None = None):
    """The MetaSchedule search strategy called `name`. `warm_start` records seed a tree strategy, which sizes
    its batches to the time left before `deadline`. Raises UserError for an unknown name, an LLM strategy
    without a team, or a warm start with a strategy that cannot take one."""
    if warm_start and name not in tree_names():
        raise UserError(f"--warm-start works with {', '.join(tree_names())}, not '{name}'")
    strategy = get(name)
    if strategy.models != NO_MODELS and team is None:
        raise UserError(f"unknown strategy '{name}' (choose from {', '.join(names())})")
    return strategy.build(Setup(settings, seed, team, target, warm_start, deadline))


def _llm_tree(setup: Setup):
    """The tree expanded by the LLM team (or its largest model) in every round (the papers' search)."""
    return _llm_tree_on_stall(replace(setup, settings=setup.settings.model_copy(update={"llm_after_stalled_rounds": 0})))


def _llm_tree_on_stall(setup: Setup):
    """The tree expanded by the LLM team once a task has gone `llm_after_stalled_rounds` measured rounds without
    a new best, by mutators before. One router (proposers.Router) serves every task of the run and holds its
    `llm_call_budget`; on a CPU target the prompts state this machine's facts (machine.host_facts)."""
    from litecoop.search.machine import host_facts
    from litecoop.search.proposers import LLMProposer, Router
    from litecoop.search.tree_search import TreeSearch

    team, settings, target = setup.team, setup.settings, setup.target
    router = Router(team, settings.regressions_before_large, settings.llm_call_budget)
    machine = host_facts(int(target.attrs.get("num-cores", 0)) or None) if target.kind.name == "llvm" else None

    def make_proposer(rng):
        return LLMProposer(team, router, settings.edits_per_call, rng, machine)

    return TreeSearch(make_proposer, settings, setup.seed, setup.warm_start, deadline=setup.deadline)


def _mutator_tree(setup: Setup):
    from litecoop.search.tree_search import TreeSearch

    return TreeSearch(lambda rng: None, setup.settings, setup.seed, setup.warm_start, deadline=setup.deadline)


def _bounded(inner, setup: Setup):
    """TVM's own strategy `inner`, ending at the run's deadline (bounded_search.BoundedSearch)."""
    from litecoop.search.budget import BoundedSearch
    from litecoop.measure.timing import Deadline

    return BoundedSearch(inner, setup.deadline or Deadline(None))


def _evolutionary(setup: Setup):
    from tvm.s_tir import meta_schedule as ms

    return _bounded(ms.search_strategy.EvolutionarySearch(), setup)


def _replay_trace(setup: Setup):
    from tvm.s_tir import meta_schedule as ms

    return _bounded(ms.search_strategy.ReplayTrace(), setup)


register(Strategy("litecoop", "the tree expanded by the whole LLM team (LiteCoOp)", ALL_MODELS, True, _llm_tree))
register(Strategy("single-llm", "the tree expanded by the preset's largest model only (Reasoning Compiler)",
                  LARGEST_MODEL, True, _llm_tree))
register(Strategy("litecoop-on-stall", "the tree expanded by mutators, and by the LLM team once they stall "
                  "(a measured round without a new best)", ALL_MODELS, True, _llm_tree_on_stall))
register(Strategy("mcts", "the tree expanded by MetaSchedule's random mutators, no LLM", NO_MODELS, True,
                  _mutator_tree))
register(Strategy("evolutionary", "TVM MetaSchedule's EvolutionarySearch", NO_MODELS, False, _evolutionary))
register(Strategy("random", "TVM MetaSchedule's ReplayTrace (random schedules)", NO_MODELS, False, _replay_trace))
