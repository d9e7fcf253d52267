"""The tree search as a MetaSchedule search strategy (`PySearchStrategy`).

One round (`generate_measure_candidates`):
  1. selection: descend the tree by the model-aware UCT (tree.select); the first
     `incumbent_expansions_per_iter` policy expansions take the best measured node (the incumbent) instead;
  2. expansion: the policy (LLM team, one LLM, or random mutators; an LLM policy only after
     `llm_after_stalled_rounds` rounds without a new best) proposes children; illegal or duplicate proposals are
     counted and replaced by a mutator's. The cost model vets the policy's children: those it scores above their
     parent are measured first this round (up to `expansion_trials_per_iter`);
  3. rollout: from each new child, and from the best measured nodes (elites), random mutations are
     scored by TVM's XGBoost cost model and the best join the tree;
  4. every unmeasured node is re-scored by the (retrained) cost model; the vetted children, then the best
     predicted ones, plus a few random ones for exploration, are returned to MetaSchedule to build and measure.
Every node enters the tree valued by the cost model's prediction (tree.estimate); `notify_runner_results`
replaces it by the measured speed and counts, per lineage (`lineage.LineageOutcome`), trials and new bests.
With `warm_start` records (the best of earlier runs, maybe of other shapes), each one that fits a sketch
is moved onto it (space.transfer) and measured first.
This is the Reasoning Compiler / LiteCoOp search, plugged into TVM's task scheduler, databases and runners.
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
from litecoop.search.space import decisions_key, fresh_sample, replay, transfer
from litecoop.measure.timing import Deadline
from litecoop.search.tree import Node, estimate, select


WARM_START = "warm-start"  # proposer of the nodes moved from earlier records
MAX_DRAWS_PER_SAMPLE = 8  # fresh draws per wanted legal sample of a sketch (most GPU draws fail VerifyGPUCode)


def task_seed(run_seed: int, task_name: str) -> int:
    """The seed of one task's search: the run's seed mixed with the task's name, so that the tasks of a run
    (MetaSchedule clones the strategy per task) do not all draw the same random numbers."""
    return zlib.crc32(f"{run_seed}:{task_name}".encode())


@derived_object
class TreeSearch(PySearchStrategy):
    """MCTS over the decisions of MetaSchedule traces; `make_proposer(rng)` builds the expansion policy
    (an LLMProposer for `litecoop`/`single-llm`, None for `mcts`, which then expands with mutators).
    `warm_start`: earlier TuningRecords, best first, offered to every task (see module docstring).
    `outcomes` ({origin: lineage.LineageOutcome}) is shared by the clones MetaSchedule makes per task; with a
    `deadline` (timing.Deadline) a batch holds only the trials that fit in the time left."""

    def __init__(self, make_proposer, settings: SearchSettings, seed: int = 0, warm_start: tuple = (),
                 outcomes: dict | None = None, deadline: Deadline | None = None):
        self.deadline = deadline or Deadline(None)
        self.make_proposer = make_proposer
        self.settings = settings
        self.seed = seed
        self.warm_start = warm_start
        self.outcomes = {} if outcomes is None else outcomes

    # MetaSchedule protocol (documented by PySearchStrategy; one round is the module docstring) --------

    def _initialize_with_tune_context(self, context) -> None:
        self.context = context
        self.rng = random.Random(task_seed(self.seed, str(context.task_name)))
        for mutator in (probs := context.space_generator.mutator_probs):
            mutator._initialize_with_tune_context(context)
        self.mutator = MutatorProposer(dict(probs), self.rng)
        self.llm = self.make_proposer(self.rng)
        self.postprocs = list(context.space_generator.postprocs)

    def pre_tuning(self, max_trials, num_trials_per_iter, design_spaces, database=None, cost_model=None) -> None:
        self.max_trials = max_trials
        self.per_iter = num_trials_per_iter
        self.cost_model = cost_model
        self.trials = 0
        self.root = Node(trace=None, key="root")
        self.nodes: dict[str, Node] = {}
        self.best_latency_s: float | None = None
        self.stalled_rounds = 0  # measured rounds since the task's last new best
        self.expansions: list[tuple[str | None, Node, list[Node]]] = []  # this round's (model, parent, vetted)
        for space in design_spaces:
            sketch = self._add(self.root, Proposal(space.trace, {}, "sketch"))
            legal = 0
            for _ in range(self.settings.samples_per_sketch * MAX_DRAWS_PER_SAMPLE):
                sch = fresh_sample(space.trace, self.context.mod, self.postprocs, self.rng.randrange(1 << 30))
                if sch is None:
                    continue
                # a sketch whose own decisions are illegal (on GPUs most fail VerifyGPUCode) is represented
                # in the tree by its first legal sample
                sample = self._add(sketch or self.root, Proposal(sch.trace, {"sample": "fresh"}, "sample"))
                sketch, legal = sketch or sample, legal + 1
                if legal == self.settings.samples_per_sketch:
                    break
            if sketch is not None:
                self._warm_start(sketch)
        if database is not None:
            self._seed_from(database)
        self._value([n for n in self.nodes.values() if n.speed is None])

    def post_tuning(self) -> None:
        self.root = None

    def generate_measure_candidates(self):
        budget = self.deadline.trials_that_fit(min(self.per_iter, self.max_trials - self.trials))
        if budget <= 0:
            return None
        measured = sorted((n for n in self.nodes.values() if n.latency_s is not None), key=lambda n: n.latency_s)
        for expansion in range(self.settings.expansions_per_iter * 4):
            if expansion >= self.settings.expansions_per_iter and len(self._open()) >= budget:
                break
            by_policy = expansion < self.settings.expansions_per_iter and self.trials > 0
            if by_policy and measured and expansion < self.settings.incumbent_expansions_per_iter:
                node = measured[0]
            else:
                node = select(self.root, self.settings.uct_c, self.settings.small_model_bias, self._bonus,
                              self.settings.max_children, self._best_speed())
            self._expand(node, by_policy)
        for elite in measured[: self.settings.elites_per_iter]:
            self._rollout(elite, self.settings.rollouts_per_elite, keep=2)
        open_nodes = self._open()
        self._value(open_nodes)
        for dropped in sorted(open_nodes, key=lambda n: -n.predicted)[self.settings.open_limit:]:
            dropped.retired = True  # never re-scored: keeps each round's cost-model work bounded
        chosen = self._choose(budget)
        if not chosen:
            return None
        self.trials += len(chosen)
        self.pending = chosen
        return [MeasureCandidate(sch, ArgInfo.from_entry_func(sch.mod, remove_preproc=True)) for _, sch in chosen]

    def notify_runner_results(self, measure_candidates, results) -> None:
        best_before = self.best_latency_s
        for (node, _), result in zip(self.pending, results):
            latency_s = mean_run_s(result.run_secs) if result.error_msg is None else None
            if latency_s is None:
                count_trial(self.outcomes, node, improved=False)
                node.failed = True
                estimate(node, 0.0)
                continue
            node.latency_s = latency_s
            improved = self.best_latency_s is not None and node.latency_s < self.best_latency_s
            count_trial(self.outcomes, node, improved)
            if self.best_latency_s is None or improved:
                self.best_latency_s = node.latency_s
            estimate(node, 1.0 / node.latency_s)
        self.pending = []
        self.stalled_rounds = 0 if self.best_latency_s != best_before else self.stalled_rounds + 1
        if self.llm is not None:
            self.llm.judge_calls(self.expansions, best_before)
        self.expansions = []

    def clone(self):
        return TreeSearch(self.make_proposer, self.settings, self.seed, self.warm_start, self.outcomes, self.deadline)

    # the search --------------------------------------------------------------------------------

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

    def _bonus(self, node: Node) -> float:
        return self.llm.uct_bonus(node) if self.llm is not None else 0.0

    def _expand(self, node: Node, by_policy: bool) -> None:
        """Add children to `node`: with `by_policy`, the policy's (the LLMs' once the task has stalled for
        `llm_after_stalled_rounds` rounds, else and in `mcts` the mutators'), vetted by the cost model; then
        mutators' up to `children_per_expansion`; then their rollouts."""
        if node is self.root:
            return
        want = self.settings.children_per_expansion
        children = []
        if by_policy:
            if self.llm is not None and self.stalled_rounds >= self.settings.llm_after_stalled_rounds:
                proposals = self.llm.propose(node, tried=sites_tried(node), best_latency_s=self.best_latency_s,
                                             target=self.context.target)
                model = self.llm.last_model
            else:
                proposals, model = self.mutator.propose(node, want), None
            children = [child for p in proposals if (child := self._add(node, p)) is not None]
            self.expansions.append((model, node, self._vet(node, children)))
        filled = []
        for _ in range(max(want - len(children), 0) * 3):
            if len(children) + len(filled) >= want:
                break
            for proposal in self.mutator.propose(node, 1):
                if (child := self._add(node, proposal)) is not None:
                    filled.append(child)
        self._value(filled)
        children += filled
        for child in children:
            self._rollout(child, self.settings.rollouts_per_child, keep=1)

    def _add(self, parent: Node, proposal: Proposal) -> Node | None:
        """Add a legal, new proposal as a child; count it against its model if it is not."""
        key = decisions_key(proposal.trace)
        usage = self.llm.usage_of(proposal.proposer) if self.llm is not None else None
        if key in self.nodes:
            if usage is not None:
                usage.duplicate += 1
            return None
        sch = replay(proposal.trace, self.context.mod, self.postprocs, seed=self.rng.randrange(1 << 30))
        if sch is None:
            if usage is not None:
                usage.invalid += 1
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
        open_nodes.sort(key=lambda n: (n.proposer != WARM_START, -n.predicted))
        explore = min(self.settings.exploration_per_iter, max(budget - len(chosen) - 1, 0))
        cut = max(budget - len(chosen) - explore, 0)
        chosen += open_nodes[:cut]
        rest = open_nodes[cut:]
        chosen += self.rng.sample(rest, min(explore, len(rest)))
        for node in chosen:
            node.sent = True
        return [(node, node.schedule) for node in chosen]

    def _warm_start(self, sketch: Node) -> None:
        """Add up to `warm_start_per_task` earlier records that fit `sketch` as its children."""
        added = 0
        for record in self.warm_start:
            if added >= self.settings.warm_start_per_task:
                break
            moved = transfer(record.trace, sketch.trace)
            if moved is not None and self._add(sketch, Proposal(moved, {"from": "warm start"}, WARM_START)):
                added += 1

    def _vet(self, parent: Node, children: list[Node]) -> list[Node]:
        """Value the policy's children with the cost model; return those it scores above their parent (the veto
        before anything is built)."""
        parent_score, *scores = self._value([parent, *children])  # one cost-model call; a measured parent keeps its speed
        return [child for child, score in zip(children, scores) if score > parent_score]

    def _seed_from(self, database) -> None:
        """Put the task's measured records (a resumed run) under the root as measured nodes."""
        for record in database.get_top_k(database.commit_workload(self.context.mod), 256):
            latency_s = mean_run_s(record.run_secs)
            node = self._add(self.root, Proposal(record.trace, {"from": "database"}, "database"))
            if node is not None and latency_s is not None:
                node.latency_s = latency_s
                node.sent = True
                self.best_latency_s = min(self.best_latency_s or math.inf, node.latency_s)
                estimate(node, 1.0 / node.latency_s)

