"""The tree search as a MetaSchedule search strategy (`PySearchStrategy`): the Reasoning Compiler / LiteCoOp search.

One round (`generate_measure_candidates`):
  1. selection: the model-aware UCT (tree.select), or the best measured node for the first
     `incumbent_expansions_per_iter` policy expansions;
  2. expansion (from the second round on): the policy (LLM team, one LLM, or mutators; an LLM only after
     `llm_after_stalled_rounds` rounds without a new best and until the run's `llm_call_budget` is spent)
     proposes children. With `mutator_fill` mutators fill each expansion up to `children_per_expansion` and
     expand more nodes; without (search/paper.toml) every expansion is the policy's. Children the cost model
     scores above their parent (vetted) are measured first (up to `expansion_trials_per_iter`). Each LLM call
     is judged for the router (`regression_rule`: once the round is measured, or at once by the cost model);
  3. rollout: TVM's XGBoost cost model scores random mutations of each new child and of the best measured
     nodes (elites), as many as set for a full round, in proportion in a smaller one; the best join the tree;
  4. the unmeasured nodes are re-scored; the vetted children, the best predicted and a few random ones go to
     MetaSchedule to build and measure.
Nodes enter valued by the cost model (tree.estimate), then by their measured speed; per lineage
(`lineage.LineageOutcome`) trials and new bests are counted. Moved schedules are measured first: `warm_start`
records (earlier runs', maybe of other shapes) in a task without records, and each round the run's other tasks' bests.
"""

from __future__ import annotations

import math
import random
import zlib

from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.arg_info import ArgInfo
from tvm.s_tir.meta_schedule.search_strategy import MeasureCandidate, PySearchStrategy

from litecoop.search.lineage import count_trial, outcome_of
from litecoop.measure.builder_runner import mean_run_s
from litecoop.search.proposers import MutatorProposer, Proposal, decision_diff, sites_tried
from litecoop.search.settings import SearchSettings
from litecoop.search.space import decisions_key, fresh_samples, nearest_transfers, replay
from litecoop.measure.timing import Deadline
from litecoop.search.tree import Node, estimate, select

WARM_START = "warm-start"  # proposer of the nodes moved from earlier records
OTHER_TASK = "other-task"  # proposer of the nodes moved from the best schedule of another task of the run


def task_seed(run_seed: int, task_name: str) -> int:
    """The seed of one task's search: the run's seed mixed with the task's name, so that the tasks of a run
    (MetaSchedule clones the strategy per task) do not all draw the same random numbers."""
    return zlib.crc32(f"{run_seed}:{task_name}".encode())


@derived_object
class TreeSearch(PySearchStrategy):
    """MCTS over the decisions of MetaSchedule traces; `make_proposer(rng)` builds the expansion policy
    (an LLMProposer for `litecoop`/`single-llm`, None for `mcts`, which then expands with mutators).
    `warm_start`: earlier TuningRecords, best first. The per-task clones share `outcomes` ({origin: LineageOutcome})
    and `bests` ({task: its best trace}); with a `deadline` (timing.Deadline) a round holds the trials that fit in the
    time left, and an unmeasured task gets one trial past it (untried, ResNet-50's convolutions ran 37x slower)."""

    def __init__(self, make_proposer, settings: SearchSettings, seed: int = 0, warm_start: tuple = (),
                 outcomes: dict | None = None, deadline: Deadline | None = None, bests: dict | None = None):
        self.deadline = deadline or Deadline(None)
        self.make_proposer, self.settings, self.seed, self.warm_start = make_proposer, settings, seed, warm_start
        self.outcomes, self.bests = {} if outcomes is None else outcomes, {} if bests is None else bests

    # MetaSchedule protocol (documented by PySearchStrategy; one round is the module docstring) --------

    def _initialize_with_tune_context(self, context) -> None:
        self.context = context
        self.task = str(context.task_name)
        self.rng = random.Random(task_seed(self.seed, self.task))
        for mutator in (probs := context.space_generator.mutator_probs):
            mutator._initialize_with_tune_context(context)
        self.mutator = MutatorProposer(dict(probs), self.rng)
        self.llm = self.make_proposer(self.rng)
        self.bonus = self.llm.uct_bonus if self.llm is not None else (lambda node: 0.0)  # the model-aware UCT's phi
        self.postprocs = list(context.space_generator.postprocs)

    def pre_tuning(self, max_trials, num_trials_per_iter, design_spaces, database=None, cost_model=None) -> None:
        self.max_trials, self.per_iter, self.cost_model = max_trials, num_trials_per_iter, cost_model
        self.trials, self.root = 0, Node(trace=None, key="root")
        self.nodes: dict[str, Node] = {}
        self.best_latency_s: float | None = None
        self.stalled_rounds = 0  # measured rounds since the task's last new best
        self.expansions: list[tuple[str | None, Node, list[Node]]] = []  # this round's (model, parent, vetted)
        wanted = self._scaled(self.settings.samples_per_sketch, self._round_budget())
        for space in design_spaces:
            sketch = self._add(self.root, Proposal(space.trace, {}, "sketch"))
            for sch in fresh_samples(space.trace, self.context.mod, self.postprocs, self.rng, wanted):
                # a sketch with illegal decisions (most on GPUs: VerifyGPUCode) is represented by its first legal sample
                sample = self._add(sketch or self.root, Proposal(sch.trace, {"sample": "fresh"}, "sample"))
                sketch = sketch or sample
        self.sketches = list(self.root.children)
        if database is not None:
            self._seed_from(database)
        earlier = [r.trace for r in self.warm_start] if self.best_latency_s is None else []  # none if it has records
        for sketch in self.sketches:
            self._move(sketch, earlier, self.settings.warm_start_per_task, WARM_START)
        self._value([n for n in self.nodes.values() if n.speed is None])

    def post_tuning(self) -> None:
        self.root = None

    def generate_measure_candidates(self):
        budget = self._round_budget()
        if budget <= 0:
            return None
        others = [trace for task, trace in self.bests.items() if task != self.task]
        for sketch in self.sketches:
            self._move(sketch, others, self.settings.moves_between_tasks_per_iter, OTHER_TASK)
        measured = sorted((n for n in self.nodes.values() if n.latency_s is not None), key=lambda n: n.latency_s)
        policy = self.settings.expansions_per_iter if self.trials > 0 else 0  # round one measures fresh samples
        for expansion in range(self.settings.expansions_per_iter * 4 if self.settings.mutator_fill else policy):
            if expansion >= self.settings.expansions_per_iter and len(self._open()) >= budget:
                break
            by_policy = expansion < policy
            if by_policy and measured and expansion < self.settings.incumbent_expansions_per_iter:
                node = measured[0]
            else:
                node = select(self.root, self.settings.uct_c, self.settings.small_model_bias, self.bonus,
                              self.settings.max_children, self._best_speed())
            self._expand(node, by_policy, budget)
        for elite in measured[: self.settings.elites_per_iter]:
            self._rollout(elite, self._scaled(self.settings.rollouts_per_elite, budget), keep=2)
        open_nodes = self._open()
        self._value(open_nodes)
        for dropped in sorted(open_nodes, key=lambda n: -n.predicted)[self.settings.open_limit:]:
            dropped.retired = True  # never re-scored: keeps each round's cost-model work bounded
        if not (chosen := self._choose(budget)):
            return None
        self.trials, self.pending = self.trials + len(chosen), chosen
        return [MeasureCandidate(sch, ArgInfo.from_entry_func(sch.mod, remove_preproc=True)) for _, sch in chosen]

    def notify_runner_results(self, measure_candidates, results) -> None:
        best_before = self.best_latency_s
        for (node, _), result in zip(self.pending, results):
            latency_s = mean_run_s(result.run_secs) if result.error_msg is None else None
            node.latency_s, node.failed = latency_s, latency_s is None
            improved = latency_s is not None and self.best_latency_s is not None and latency_s < self.best_latency_s
            count_trial(self.outcomes, node, improved)
            if latency_s is not None and (self.best_latency_s is None or improved):
                self.best_latency_s, self.bests[self.task] = latency_s, node.trace
            estimate(node, 0.0 if latency_s is None else 1.0 / latency_s)
        self.pending = []
        self.stalled_rounds = 0 if self.best_latency_s != best_before else self.stalled_rounds + 1
        if self.llm is not None and self.settings.regression_rule == "round":
            self.llm.judge_calls(self.expansions, best_before)
        self.expansions = []

    def clone(self):
        return TreeSearch(self.make_proposer, self.settings, self.seed, self.warm_start, self.outcomes, self.deadline,
                          self.bests)

    # the search --------------------------------------------------------------------------------
    def _round_budget(self) -> int:  # num_trials_per_iter, or what the deadline and --trials leave (1 at least once)
        return max(self.deadline.trials_that_fit(min(self.per_iter, self.max_trials - self.trials)),
                   int(self.trials == 0 < self.max_trials))

    def _scaled(self, count: int, budget: int) -> int:
        """`count` (samples or rollouts of a full round) in proportion to the round's `budget` of trials, at least 2,
        so that a deadline's smaller rounds search as much per trial (3-minute ResNet-50: 2 trials a round)."""
        return max(2, math.ceil(count * min(budget, self.per_iter) / self.per_iter))

    def _speed_of(self, score: float) -> float:
        """A cost-model score as a speed in 1/s: XGBModel predicts throughput normalized by the task's best
        measured latency (its training target), so score / best latency. Before any measurement, the score."""
        return max(score, 0.0) / (self.best_latency_s or 1.0)

    def _best_speed(self) -> float:
        """The speed (1/s) that node values are relative to: the best measured, else the best predicted."""
        if self.best_latency_s is not None:
            return 1.0 / self.best_latency_s
        return max((n.speed for n in self.nodes.values() if n.speed), default=1.0)

    def _value(self, nodes: list[Node]) -> list[float]:
        """Score `nodes` with the cost model and make the scores their speed estimates (measured nodes keep
        their measurement). Returns the scores."""
        scores = self._predict([n.schedule for n in nodes])
        for node, score in zip(nodes, scores):
            node.predicted = score
            if node.latency_s is None and not node.failed:
                estimate(node, self._speed_of(score))
        return scores

    def _expand(self, node: Node, by_policy: bool, budget: int) -> None:
        """Add children to `node`: with `by_policy`, the policy's (the LLMs' after `llm_after_stalled_rounds`
        stalled rounds until the call budget is spent, else and in `mcts` the mutators'), vetted by the cost model
        (an LLM call judged at once by the "paper" `regression_rule`); then mutators' up to `children_per_expansion`
        (without `mutator_fill`, one where the policy gave no legal child); then their rollouts."""
        if node is self.root:
            return
        want, children, proposals, model = self.settings.children_per_expansion, [], None, None
        if by_policy:
            if self.llm is not None and self.stalled_rounds >= self.settings.llm_after_stalled_rounds:
                proposals = self.llm.propose(node, tried=sites_tried(node), best_latency_s=self.best_latency_s,
                                             target=self.context.target)  # None: the call budget is spent
                model = self.llm.last_model if proposals is not None else None
            proposals = self.mutator.propose(node, want) if proposals is None else proposals
            outcome_of(self.outcomes, model or self.mutator.name).expansions += 1
            added = [(proposal, self._add(node, proposal)) for proposal in proposals]
            children = [child for _, child in added if child is not None]
            self.expansions.append((model, node, vetted := self._vet(node, children)))
            if model is not None and self.settings.regression_rule == "paper":
                self.llm.judge_answer(model, next((c for p, c in added if p.answer), None), vetted)
        if not self.settings.mutator_fill:
            want = 0 if children else 1
        filled = []
        for _ in range(max(want - len(children), 0) * 3):
            if len(children) + len(filled) >= want:
                break
            filled += [child for p in self.mutator.propose(node, 1) if (child := self._add(node, p)) is not None]
        self._value(filled)
        children += filled
        for child in children:
            self._rollout(child, self._scaled(self.settings.rollouts_per_child, budget), keep=1)

    def _add(self, parent: Node, proposal: Proposal) -> Node | None:
        """Add a legal, new proposal as a child; count it against its model if it is not."""
        key = decisions_key(proposal.trace)
        usage = self.llm.usage_of(proposal.proposer) if self.llm is not None else None
        duplicate = key in self.nodes
        sch = None if duplicate else replay(proposal.trace, self.context.mod, self.postprocs,
                                            seed=self.rng.randrange(1 << 30))
        if sch is None:
            if usage is not None:
                usage.duplicate, usage.invalid = usage.duplicate + duplicate, usage.invalid + (not duplicate)
            return None
        node = parent.add_child(Node(trace=proposal.trace, key=key, edits=proposal.edits, proposer=proposal.proposer,
                                     origin=proposal.proposer, next_model=proposal.next_model, schedule=sch))
        self.nodes[key] = node
        outcome_of(self.outcomes, node.origin).added += 1
        return node

    def _rollout(self, node: Node, count: int, keep: int) -> None:
        """Score `count` random mutations of `node` with the cost model; the `keep` best join the tree
        under it (the cheap rollouts of the Reasoning Compiler's MCTS)."""
        rollouts = {}
        for _ in range(count):
            trace = self.mutator.mutate(node.trace)
            if trace is None or (key := decisions_key(trace)) in self.nodes or key in rollouts:
                continue
            sch = replay(trace, self.context.mod, self.postprocs, seed=self.rng.randrange(1 << 30))
            if sch is not None:
                rollouts[key] = (trace, sch)
        items = list(rollouts.items())
        scores = self._predict([sch for _, (_, sch) in items])
        for index in sorted(range(len(items)), key=lambda i: -scores[i])[:keep]:
            key, (trace, sch) = items[index]
            child = node.add_child(Node(trace=trace, key=key, edits=decision_diff(node.trace, trace),
                                        proposer="rollout", origin=node.origin, predicted=scores[index], schedule=sch))
            self.nodes[key] = child
            estimate(child, self._speed_of(scores[index]))
            outcome_of(self.outcomes, child.origin).added += 1

    def _predict(self, schedules) -> list[float]:
        if self.cost_model is None or not schedules:
            return [0.0] * len(schedules)
        candidates = [MeasureCandidate(s, ArgInfo.from_entry_func(s.mod, remove_preproc=True)) for s in schedules]
        return [float(x) for x in self.cost_model.predict(self.context, candidates)]

    def _open(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.latency_s is None and not n.failed and not n.sent and not n.retired]

    def _choose(self, budget: int) -> list[tuple[Node, object]]:
        """The round's vetted policy children (best predicted first, up to `expansion_trials_per_iter`),
        then the best-predicted unmeasured nodes, plus a few random ones (exploration)."""
        vetted = sorted((n for _, _, kids in self.expansions for n in kids if not n.sent), key=lambda n: -n.predicted)
        chosen = vetted[: min(self.settings.expansion_trials_per_iter, budget)]
        open_nodes = [n for n in self._open() if n not in chosen]
        open_nodes.sort(key=lambda n: (n.proposer not in (WARM_START, OTHER_TASK), -n.predicted))
        explore = min(self.settings.exploration_per_iter, max(budget - len(chosen) - 1, 0))
        cut = max(budget - len(chosen) - explore, 0)
        rest = open_nodes[cut:]
        chosen += open_nodes[:cut] + self.rng.sample(rest, min(explore, len(rest)))
        for node in chosen:
            node.sent = True
        return [(node, node.schedule) for node in chosen]

    def _move(self, sketch: Node, traces: list, limit: int, proposer: str) -> None:
        """Add as `sketch`'s children up to `limit` new schedules moved from `traces`, nearest shapes first."""
        added = 0
        for moved in nearest_transfers(traces, sketch.trace):
            if added == limit:
                break
            added += self._add(sketch, Proposal(moved, {"from": proposer}, proposer)) is not None

    def _vet(self, parent: Node, children: list[Node]) -> list[Node]:
        """Value the policy's children with the cost model; return those it scores above their parent (the veto
        before anything is built; one cost-model call, and a measured parent keeps its measured speed)."""
        parent_score, *scores = self._value([parent, *children])
        return [child for child, score in zip(children, scores) if score > parent_score]

    def _seed_from(self, database) -> None:
        """Put the task's measured records (a resumed run's, the store's) under the root as measured nodes."""
        for record in database.get_top_k(database.commit_workload(self.context.mod), 256):
            latency_s = mean_run_s(record.run_secs)
            node = self._add(self.root, Proposal(record.trace, {"from": "database"}, "database"))
            if node is not None and latency_s is not None:
                node.latency_s, node.sent = latency_s, True
                if latency_s < (self.best_latency_s or math.inf):
                    self.best_latency_s, self.bests[self.task] = latency_s, record.trace
                estimate(node, 1.0 / node.latency_s)

