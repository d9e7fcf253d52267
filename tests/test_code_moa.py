"""Mixture-of-Agents in layers, with scripted models and a scripted evaluator (no LLM, no timing runs): a
later layer's proposers see the previous layer's measured verdicts, the aggregator is asked only when it has
two passing candidates to compose, and the run stops early when a refining layer brings nothing better."""

import json
import re
from pathlib import Path

import pytest

from litecoop.codeopt import prompts
from litecoop.codeopt.bench import per_model, per_role
from litecoop.codeopt.evaluate import Evaluation
from litecoop.codeopt.meta import Prompter
from litecoop.codeopt.search import TEMPERATURES, Agent, Pool, agents, run_moa
from litecoop.codeopt.task import CodeTask
from litecoop.llm.model_spec import ModelSpec
from litecoop.llm.team import ChatModel

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL = "def unique_keys(values):\n    speed = 1.0\n    return sorted(set(values))\n"


def answer(speed: float) -> str:
    """A rewrite whose scripted verdict is `speed`x faster (0: it fails)."""
    return f"```python\ndef unique_keys(values):\n    speed = {speed}\n    return sorted(set(values))\n```\n"


class ScriptedModel(ChatModel):
    """Answers from a list, one per call, and keeps every user prompt it was sent."""

    def __init__(self, name: str, role: str, answers: list[float]):
        super().__init__(spec=ModelSpec(name=name, role=role, parameters=1e9 if role == "small" else 4e9,
                                        family="test"))
        self.answers, self.prompts, self.temperatures = list(answers), [], []

    def _stream(self, messages, max_tokens, temperature, seed, response_format, grammar):
        self.prompts.append(messages[1]["content"])
        self.temperatures.append(temperature)
        yield answer(self.answers.pop(0))

    def _count_tokens(self, text):
        return len(text) // 4


class ScriptedEvaluator:
    """The verdict written in the candidate: `speed = X` passes X times faster (significant from 1.05x); 0 fails."""

    def __init__(self, task):
        self.task = task

    def evaluate(self, source, repeat=None):
        speed = float(re.search(r"speed = ([\d.]+)", source).group(1))
        if speed == 0:
            return Evaluation(False, failure="different output: size 3 seed 0")
        return Evaluation(True, speedup=speed, p_value=0.001 if speed >= 1.05 else 0.5)


def moa(tmp_path, budget, first, second, aggregates, layers=None):
    """Two small proposers (answers `first`, `second`, one per layer) and an aggregator; returns the run."""
    (tmp_path / "slow.py").write_text(ORIGINAL)
    task = CodeTask(tmp_path / "slow.py", "python", "test_slow.py", "unique_keys")
    proposers = [ScriptedModel("small-a", "small", first), ScriptedModel("small-b", "small", second)]
    aggregator = ScriptedModel("large", "large", aggregates)
    contexts = prompts.Contexts("project", "goal: make it faster", "id")
    pool = Pool(None, ScriptedEvaluator(task), Prompter(None, "python", contexts, enabled=False), budget)
    return pool, proposers, aggregator, run_moa(pool, [Agent(model) for model in proposers], aggregator, layers)


def test_later_layers_see_the_measured_verdicts_of_the_layer_before(tmp_path):
    pool, (a, b), aggregator, spent = moa(tmp_path, 6, [1.5, 2.0, 2.2], [1.2, 0], [1.6])
    assert spent == [3, 2, 1] and pool.spent == 6
    assert all("previous layer" not in prompt for prompt in (a.prompts[0], b.prompts[0]))
    for prompt in (a.prompts[1], b.prompts[1]):  # layer 2 proposers: the layer-1 candidates and their verdicts
        assert "The previous layer's attempts, measured" in prompt
        assert "passed, 1.50x faster than the original" in prompt and "passed, 1.20x faster" in prompt
        assert "This version passed, 1.60x faster" in prompt and "speed = 1.6" in prompt  # the best is the base
        assert "+    speed = 1.5" in prompt and "+    speed = 1.2" in prompt
    assert "1.50x faster" in aggregator.prompts[0] and "1.20x faster" in aggregator.prompts[0]
    assert "failed: different output: size 3 seed 0" in a.prompts[2] and "This version passed, 2.00x" in a.prompts[2]
    assert pool.best().evaluation.speedup == 2.2


def test_the_aggregator_is_asked_only_when_two_candidates_passed(tmp_path):
    """Layer 2 has one passing candidate and one failure: nothing to compose, so its aggregation unit goes to
    layer 3 (the previous test's run); here layer 1 has none passing and the run goes on from the original."""
    pool, (a, b), aggregator, spent = moa(tmp_path, 5, [1.0, 3.0], [0, 1.2], [3.5])
    assert spent == [2, 3] and pool.spent == 5 and len(aggregator.prompts) == 1
    assert "speed = 1.0" in a.prompts[1]  # the passing, not faster candidate is the base of layer 2
    assert pool.best().evaluation.speedup == 3.5


def test_a_refining_layer_that_brings_nothing_better_stops_the_run(tmp_path):
    pool, (a, b), aggregator, spent = moa(tmp_path, 12, [1.5, 1.1, 9.0], [1.3, 1.55, 9.0], [1.6, 1.58, 9.0])
    assert spent == [3, 3] and pool.spent == 6 and pool.left == 6  # layer 2's best (1.58x) < 1.6x: stop
    assert len(a.prompts) == len(b.prompts) == len(aggregator.prompts) == 2
    assert pool.best().evaluation.speedup == 1.6
    pool, _, _, spent = moa(tmp_path, 12, [1.5, 2.0, 3.0], [1.2, 2.2, 3.1], [1.6, 2.5, 3.5], layers=2)
    assert spent == [3, 3] and pool.best().evaluation.speedup == 2.5
    pool, _, _, spent = moa(tmp_path, 4, [1.5, 2.0], [1.2, 2.2], [1.6, 2.5])
    assert spent == [3, 1] and pool.spent == 4  # the budget ends inside layer 2: one proposer, no aggregation


def test_one_model_makes_several_agents_plain_first_then_with_roles(tmp_path):
    """A team of one model explores with three plain rewrites at three temperatures, then refines with three
    different kinds of fix; each candidate keeps its role for the per-role accounting."""
    (tmp_path / "slow.py").write_text(ORIGINAL)
    task = CodeTask(tmp_path / "slow.py", "python", "test_slow.py", "unique_keys")
    model = ScriptedModel("only", "large", [1.2, 1.3, 1.4, 1.6, 1.7, 1.8])
    aggregator = ScriptedModel("large", "large", [1.5, 1.9])
    team = agents([model], "python")
    assert [a.role for a in team] == list(prompts.ROLES["python"]) and all(a.model is model for a in team)
    contexts = prompts.Contexts("project", "goal: make it faster", "id")
    pool = Pool(None, ScriptedEvaluator(task), Prompter(None, "python", contexts, enabled=False), 8)
    assert run_moa(pool, team, aggregator, layers=2) == [4, 4]
    assert model.temperatures == list(TEMPERATURES) * 2
    assert all("Focus:" not in prompt for prompt in model.prompts[:3])
    for agent, prompt in zip(team, model.prompts[3:]):
        assert f"Focus: {prompts.ROLES['python'][agent.role]}." in prompt
    assert [c.role for c in pool.candidates] == ["", "", "", ""] + [a.role for a in team] + [""]


def test_per_model_accounting_of_a_committed_code_bench():
    """`bench-code`'s per-model table over the committed results/code run log: every code answer is a
    candidate, an invalid or a duplicate answer; every significant run's win goes to one model."""
    runs = [json.loads(line) for line in (ROOT / "results" / "archive" / "code" / "runs.jsonl").read_text().splitlines()]
    stats = per_model(runs)
    for name, s in stats.items():
        usage = [r["llm"][name] for r in runs if name in r["llm"]]
        mine = [c for r in runs for c in r["candidates"] if c["model"] == name]
        assert s["answers"] == len(mine) + sum(u["invalid"] + u["duplicate"] for u in usage)
        assert s["candidates"] == len(mine) and s["faster"] <= s["passed"] <= s["candidates"]
        assert s["usable_rate"] == pytest.approx(len(mine) / s["answers"])
    assert sum(s["wins"] for s in stats.values()) == sum(r["significant"] for r in runs)
    assert sum(s["candidates"] for s in per_role(runs).values()) == sum(len(r["candidates"]) for r in runs)
