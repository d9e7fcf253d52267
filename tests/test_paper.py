"""The LiteCoOp paper's search (`--search paper`) and its course-correction trigger, on synthetic outcomes.

The router runs over the real `local-cpu` team: building a Team reads its preset only, and no test here loads
weights or calls a model (every test checks that none was loaded). The one stand-in is the models' answers in
the tree-search test (`ask_json` replaced by random legal answers), since a real answer needs llama.cpp and
~2 GB of weights; everything else there is real: a TVM design space, the registry's LLM proposer and router,
the tree search and the paper preset's settings, with a synthetic cost model and synthetic runner results
(the router's `record` and the search's `_expand` are wrapped only to watch them).
"""

import random
from collections import Counter

import pytest
from tvm.s_tir.meta_schedule.runner import RunnerResult

from synthetic import SyntheticCostModel, synthetic_latency_s

from litecoop.llm.team import Team
from litecoop.search.proposers import LLMProposer, Router
from litecoop.search.registry import create
from litecoop.search.settings import from_preset
from litecoop.search.tree import Node

SMALL, OTHER_SMALL, LARGE = "gemma3-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"


@pytest.fixture
def team():
    team = Team("local-cpu")
    assert [m.name for m in team.models] == [SMALL, OTHER_SMALL, LARGE] and team.large.name == LARGE
    yield team
    assert all(m._llama is None for m in team.models), "a test loaded model weights"


def regress(router: Router, times: int, next_model: str | None = None) -> list[str]:
    """`times` calls, each judged a regression at once (the paper rule's order: a call's verdict is in before
    the next call is routed); the names of the models chosen."""
    chosen = []
    for _ in range(times):
        chosen.append(router.choose(next_model).name)
        router.record(chosen[-1], improved=False)
    return chosen


def test_paper_preset_loads_and_differs_from_the_default_where_the_paper_does():
    paper, default = from_preset("paper"), from_preset("default")
    assert paper.regressions_before_large == 2 and paper.regression_rule == "paper"
    assert not paper.mutator_fill and paper.llm_call_budget > 0
    assert paper.expansions_per_iter > default.expansions_per_iter and paper.elites_per_iter == 0
    # the default preset keeps its own rule: k = 3, judged once a round is measured, mutators fill in, no budget
    assert (default.regressions_before_large, default.regression_rule, default.mutator_fill,
            default.llm_call_budget) == (3, "round", True, 0)


def test_larger_model_expands_after_exactly_two_consecutive_small_regressions(team):
    router = Router(team, regressions_before_large=2)
    assert regress(router, 2) == [OTHER_SMALL, SMALL]  # the small models in turn
    assert router.choose(None).name == LARGE
    assert router.choose(None).role == "small"  # the larger model's call starts the count afresh
    # one regression is not enough, after the larger model's call as at the start
    fresh = Router(team, regressions_before_large=2)
    regress(fresh, 1)
    assert fresh.choose(None).role == "small"


def test_an_improvement_resets_the_count(team):
    router = Router(team, regressions_before_large=2)
    regress(router, 1)
    router.record(router.choose(None).name, improved=True)
    regress(router, 1)
    assert router.small_regressions == 1  # one since the improvement, not two
    assert router.choose(None).role == "small"
    router.record(SMALL, improved=False)
    assert router.choose(None).name == LARGE


def test_the_larger_models_own_outcomes_do_not_count_toward_k(team):
    router = Router(team, regressions_before_large=2)
    regress(router, 2)
    assert router.choose(None).name == LARGE
    for _ in range(3):
        router.record(LARGE, improved=False)
    assert router.small_regressions == 0 and team.large.usage.regressions == 3
    assert router.choose(None).role == "small"
    router.record(SMALL, improved=False)
    router.record(LARGE, improved=True)  # neither resets the small models' count ...
    router.record(OTHER_SMALL, improved=False)
    assert router.choose(None).name == LARGE  # ... nor adds to it


def test_a_named_small_model_is_honoured_and_the_trigger_comes_first(team):
    router = Router(team, regressions_before_large=2)
    assert router.choose(OTHER_SMALL).name == OTHER_SMALL
    assert router.choose(LARGE).role == "small"  # the larger model is called by the trigger only
    assert regress(router, 2, next_model=SMALL) == [SMALL, SMALL]
    assert router.choose(SMALL).name == LARGE  # after k small regressions the trigger wins over the name


def test_larger_models_share_at_a_50_percent_regression_rate_is_in_the_papers_band(team):
    """Each small call regresses with probability 1/2: the larger model comes after a run of two regressions,
    on average every 1/p + 1/p^2 = 6 small calls, so its share is 1/7 (the paper: 23.9% on CPU; band 10-30%)."""
    rng = random.Random(0)
    router = Router(team, regressions_before_large=2)
    chosen = []
    for _ in range(2000):
        chosen.append(router.choose(rng.choice([None, SMALL, OTHER_SMALL, LARGE])).name)
        router.record(chosen[-1], improved=rng.random() < 0.5)
    share = chosen.count(LARGE) / len(chosen)
    assert 0.10 <= share <= 0.30 and share == pytest.approx(1 / 7, abs=0.02)


def test_the_call_budget_is_counted_per_run(team):
    router = Router(team, regressions_before_large=2, call_budget=3)
    assert not router.spent
    regress(router, 3)
    assert router.spent and router.calls == 3
    assert not Router(team, 2).spent  # 0: no budget


def test_a_call_is_judged_by_the_child_of_its_whole_answer(team):
    """The call regresses when its answer's child is not scored above the parent, whatever its per-edit
    siblings did, and when that child is missing (illegal or duplicate)."""
    verdicts = []
    judge = LLMProposer(team, Router(team, 2), 3, random.Random(0))
    judge.record = lambda model, improved: verdicts.append(improved)
    answer, sibling = Node(None, "answer"), Node(None, "sibling")
    judge.judge_answer(SMALL, answer, vetted=[sibling, answer])
    judge.judge_answer(SMALL, answer, vetted=[sibling])
    judge.judge_answer(SMALL, None, vetted=[sibling])
    assert verdicts == [True, False, False]


def random_answers(team, rng, calls: list):
    """Stand-ins for the models' answers: 1-3 codes of the menu and a model to go next, drawn at random; every
    fifth answer names no code of the menu (no legal child)."""
    for model in team.models:
        def ask_json(system, user, schema, max_tokens=160, temperature=0.7, grammar=None, model=model):
            calls.append(model.name)
            model.usage.calls += 1
            codes = schema["properties"]["edits"]["items"]["enum"]
            edits = ["nonsense"] if len(calls) % 5 == 0 else rng.sample(codes, min(len(codes), rng.randint(1, 3)))
            return {"edits": edits, "next": rng.choice(schema["properties"]["next"]["enum"])}
        model.ask_json = ask_json


def test_paper_preset_every_expansion_is_an_llm_call_until_the_budget_is_spent(matmul_context, target, team):
    """litecoop with the paper preset on a real design space: round one measures fresh samples; from then on
    each of the round's `expansions_per_iter` expansions is one LLM call (a mutator child only where an answer
    gave no legal one), each call judged at once, and the larger model called exactly when the two calls
    before it (since its last call) were small-model regressions; once the run's `llm_call_budget` calls are
    made, the same expansions go to mutators."""
    context, spaces = matmul_context
    budget = 20
    settings = from_preset("paper").model_copy(update={"llm_call_budget": budget, "samples_per_sketch": 8,
                                                       "rollouts_per_child": 4})
    search = create("litecoop", settings, 0, team, target)._inst
    search._initialize_with_tune_context(context)
    search.pre_tuning(200, settings.num_trials_per_iter, spaces, None, SyntheticCostModel())
    calls, verdicts, expansions, rounds = [], [], [], []
    random_answers(team, random.Random(0), calls)
    router, record, expand = search.llm.router, search.llm.router.record, search._expand
    router.record = lambda model, improved: (verdicts.append((model, improved)), record(model, improved))

    def traced_expand(node, by_policy, budget):
        known = len(node.children)
        expand(node, by_policy, budget)
        expansions.append((by_policy, search.llm.last_model, [c.proposer for c in node.children[known:]]))
        assert len(verdicts) == len(calls)  # the call is judged before the next one is made

    search._expand = traced_expand
    for _ in range(5):  # round one, then 20 calls over 8 + 8 + 4 expansions, then 4 + 8 mutator expansions
        candidates = search.generate_measure_candidates()
        rounds.append([model for model, _, _ in search.expansions])
        search.notify_runner_results(candidates, [RunnerResult([synthetic_latency_s(c.sch)], None)
                                                  for c in candidates])
    assert rounds[0] == [] and all(len(models) == settings.expansions_per_iter for models in rounds[1:])
    made = [model for models in rounds[1:] for model in models]  # None: a mutator expansion
    assert all(made[:budget]) and not any(made[budget:]) and calls == made[:budget] and router.calls == budget
    assert len(expansions) == len(made) and all(by_policy for by_policy, _, _ in expansions)
    for _, model, proposers in expansions[:budget]:  # a mutator child only where the answer gave no legal one
        from_llm, mutants = proposers.count(model), proposers.count("mutator")
        assert from_llm + mutants == len(proposers) and mutants == (from_llm == 0)
    assert sum(proposers == ["mutator"] for _, _, proposers in expansions[:budget]) >= budget // 5
    assert all(set(proposers) == {"mutator"} for _, _, proposers in expansions[budget:])
    counted = {origin: outcome.expansions for origin, outcome in search.outcomes.items() if outcome.expansions}
    assert counted == dict(Counter(made[:budget])) | {"mutator": len(made) - budget}  # as the report gives them
    small_regressions = 0
    for model, improved in verdicts:
        assert (model == LARGE) == (small_regressions >= 2)
        small_regressions = 0 if model == LARGE or improved else small_regressions + 1
    assert 0 < calls.count(LARGE) < budget / 2
