"""TreeSearch and the router driven with synthetic cost-model scores and runner results: a real MetaSchedule
design space (a small matmul), no LLM call, nothing built or run. Each test pins one property of the search."""

import random
from types import SimpleNamespace

import pytest
from tvm.s_tir import meta_schedule as ms
from tvm.s_tir.meta_schedule.runner import RunnerResult

from synthetic import SyntheticCostModel, synthetic_latency_s

from litecoop.llm.team import Team
from litecoop.search.proposers import LLMProposer, Proposal
from litecoop.search.settings import SearchSettings
from litecoop.search.tree_search import TreeSearch, task_seed
from litecoop.search.registry import create

SETTINGS = SearchSettings(samples_per_sketch=8, rollouts_per_child=4, elites_per_iter=2, rollouts_per_elite=8,
                          cost_model_warmup_samples=0)


def run_round(search: TreeSearch) -> list:
    candidates = search.generate_measure_candidates()
    results = [RunnerResult(run_secs=[synthetic_latency_s(c.sch)], error_msg=None) for c in candidates]
    search.notify_runner_results(candidates, results)
    return candidates


def start(context, spaces, settings=SETTINGS, make_proposer=lambda rng: None, seed=0) -> TreeSearch:
    search = TreeSearch(make_proposer, settings, seed)
    search._initialize_with_tune_context(context)
    search.pre_tuning(64, 8, spaces, None, SyntheticCostModel())
    return search


def test_every_node_enters_valued_and_measurements_replace_predictions(matmul_context):
    context, spaces = matmul_context
    search = start(context, spaces)
    for _ in range(3):
        measured = run_round(search)
        for node in search.nodes.values():
            assert node.visits > 0 and node.speed is not None, node.proposer
    # measured speeds are absolute (1 / latency), not relative to the best at the time of measurement, so a
    # node measured in the first round is worth no more than one of the same latency measured in the last
    measured_nodes = [n for n in search.nodes.values() if n.latency_s is not None]
    assert len(measured_nodes) == 24 and search.best_latency_s == min(n.latency_s for n in measured_nodes)
    for node in measured_nodes:
        assert node.speed == pytest.approx(1 / node.latency_s)
    assert len(measured) == 8 and search.trials == 24


def test_root_visits_count_every_estimate_once(matmul_context):
    context, spaces = matmul_context
    search = start(context, spaces)
    run_round(search)
    run_round(search)
    assert search.root.visits == len(search.nodes)
    assert search.root.speed_sum == pytest.approx(sum(n.speed for n in search.nodes.values()))


def test_judge_compares_with_the_parents_predicted_latency(matmul_context):
    """An LLM call whose vetted child ran faster than its unmeasured parent's predicted latency improved; one
    whose child ran slower regressed (the router's signal), whatever the task's best."""
    context, spaces = matmul_context
    search = start(context, spaces)
    run_round(search)
    verdicts = []
    proposer = SimpleNamespace(record=lambda model, improved: verdicts.append(improved))
    parent = next(n for n in search.nodes.values() if n.latency_s is None and n.speed)
    fast = SimpleNamespace(latency_s=0.5 / parent.speed)
    slow = SimpleNamespace(latency_s=2.0 / parent.speed)
    LLMProposer.judge_calls(proposer, [("m", parent, [fast]), ("m", parent, [slow])], best_before=1e-9)
    assert verdicts == [True, False]


def test_tasks_draw_different_random_streams():
    assert task_seed(0, "fused_matmul") != task_seed(0, "fused_softmax")
    assert task_seed(0, "fused_matmul") != task_seed(1, "fused_matmul")
    assert task_seed(3, "fused_matmul") == task_seed(3, "fused_matmul")


def test_the_same_seed_on_another_task_samples_other_schedules(matmul_context):
    context, spaces = matmul_context
    other = ms.TuneContext(mod=context.mod, target=context.target, space_generator="post-order-apply",
                           search_strategy="replay-trace", task_name="another_task", num_threads=2)
    assert set(start(context, spaces).nodes) != set(start(other, spaces).nodes)
    assert set(start(context, spaces).nodes) == set(start(context, spaces).nodes)


def test_one_router_serves_every_task_clone(target):
    """MetaSchedule clones the strategy per task: the regressions counted in one task's clone call the larger
    model in the next task's."""
    team = Team("local-cpu")
    search = create("litecoop", SETTINGS, 0, team, target)
    clones = [search._inst.clone(), search._inst.clone()]  # what MetaSchedule calls per task
    first, second = (clone.make_proposer(random.Random(i)) for i, clone in enumerate(clones))
    assert first.router is second.router
    for _ in range(SETTINGS.regressions_before_large):
        first.record(first.router.choose(None).name, improved=False)
    assert second.router.choose(None) is team.large
    assert second.router.choose(None).role == "small"


def test_router_prefers_the_named_small_model_and_resets_on_improvement(target):
    team = Team("local-cpu")
    router = create("litecoop", SETTINGS, 0, team, target).make_proposer(random.Random(0)).router
    assert router.choose("qwen2.5-coder-0.5b").name == "qwen2.5-coder-0.5b"
    assert router.choose(team.large.name).role == "small"  # the larger model is called by the router only
    router.record("gemma3-270m", improved=False)
    router.record("gemma3-270m", improved=True)
    router.record("gemma3-270m", improved=False)
    assert router.small_regressions == 1
    assert team.by_name("gemma3-270m").usage.regressions == 2


def test_policy_children_are_vetted_against_their_parent(matmul_context):
    """Only children the cost model scores above their parent are reserved a measurement: of a parent's mutants
    some score above it and some below, and exactly the former are vetted."""
    context, spaces = matmul_context
    search = start(context, spaces)
    run_round(search)
    measured = sorted((n for n in search.nodes.values() if n.latency_s is not None), key=lambda n: n.latency_s)
    for parent in measured[len(measured) // 2:]:  # from the median down: a parent whose mutants land on both sides
        mutants = [t for _ in range(40) if (t := search.mutator.mutate(parent.trace)) is not None]
        children = [c for t in mutants if (c := search._add(parent, Proposal(t, {"x": "y"}, "mutator")))]
        parent_score = 1e-3 / synthetic_latency_s(parent.schedule)
        better = {c for c in children if 1e-3 / synthetic_latency_s(c.schedule) > parent_score}
        if better and better != set(children):
            break
    assert better and better != set(children), "the mutants must fall on both sides of the parent"
    vetted = search._vet(parent, children)
    assert set(vetted) == better
    # the measurement the vetted children are reserved: they come first in the next round's batch
    search.expansions.append(("m", parent, vetted))
    chosen = [node for node, _ in search._choose(len(vetted) + 2)]
    assert set(chosen[:min(len(vetted), SETTINGS.expansion_trials_per_iter)]) <= set(vetted)


def test_llm_is_asked_only_once_the_task_has_stalled(matmul_context):
    """With `llm_after_stalled_rounds=1` the policy expansions use mutators while every round finds a new best,
    and the LLM once a measured round found none; a new best resets the count."""
    context, spaces = matmul_context
    calls = []

    def propose(node, **_):
        calls.append(node)
        return []

    llm = SimpleNamespace(propose=propose, last_model="m", usage_of=lambda name: None, uct_bonus=lambda node: 0.0,
                          judge_calls=lambda expansions, best_before: None)
    search = start(context, spaces, SETTINGS.model_copy(update={"llm_after_stalled_rounds": 1}),
                   make_proposer=lambda rng: llm)
    run_round(search)
    node = next(n for n in search.nodes.values() if n.latency_s is not None)
    search._expand(node, by_policy=True, budget=8)
    assert search.stalled_rounds == 0 and calls == []
    candidates = search.generate_measure_candidates()
    slower = [RunnerResult(run_secs=[2 * search.best_latency_s], error_msg=None) for _ in candidates]
    search.notify_runner_results(candidates, slower)
    assert search.stalled_rounds == 1
    search._expand(node, by_policy=True, budget=8)
    assert calls == [node]
    candidates = search.generate_measure_candidates()
    faster = [RunnerResult(run_secs=[search.best_latency_s / 2], error_msg=None) for _ in candidates]
    search.notify_runner_results(candidates, faster)
    assert search.stalled_rounds == 0


def test_litecoop_asks_every_round_and_litecoop_on_stall_after_a_stall(target):
    team = Team("local-cpu")
    assert create("litecoop", SETTINGS, 0, team, target)._inst.settings.llm_after_stalled_rounds == 0
    assert create("litecoop-on-stall", SETTINGS, 0, team, target)._inst.settings.llm_after_stalled_rounds == 1


def test_a_round_the_deadline_shrinks_searches_in_proportion(matmul_context):
    """A time budget that leaves 2 trials of a full round of 8 cuts the fresh samples of each sketch and the
    rollouts to a quarter of the settings' (2 at least), so that a short search spends its time measuring."""
    from litecoop.measure.timing import Deadline

    context, spaces = matmul_context
    searches = {}
    for name, deadline in (("full", None), ("short", Deadline(budget_s=4.0, tasks=1))):
        search = TreeSearch(lambda rng: None, SETTINGS, 0, deadline=deadline)
        if deadline is not None:
            deadline.start()
        search._initialize_with_tune_context(context)
        search.pre_tuning(64, 8, spaces, None, SyntheticCostModel())
        searches[name] = search
    assert searches["short"].deadline.first_batch == 2
    samples = {name: sum(n.proposer == "sample" for n in s.nodes.values()) for name, s in searches.items()}
    assert samples["full"] == 8 * len(spaces) and samples["short"] == 2 * len(spaces), samples
    rollouts = {}
    for name, search in searches.items():
        search.deadline.trial_s = 0.0  # no pace known: every round as large as the first
        rollout, counts = search._rollout, []
        search._rollout = lambda node, count, keep, rollout=rollout, counts=counts: counts.append(count) or rollout(node, count, keep)
        run_round(search)
        run_round(search)
        rollouts[name] = counts
    assert max(rollouts["short"]) == 2 and sum(rollouts["short"]) <= sum(rollouts["full"]) / 2, rollouts
