"""Prompt building, answer grammar and parsing, and LiteCoOp routing."""

import random

from litecoop import prompts
from litecoop.llm.team import Team
from litecoop.proposers import LLMProposer
from litecoop.space import DecisionSite
from litecoop.tree import Node

SITES = [DecisionSite("t0", 3, "tile factors of a loop of extent 8, outer to inner", "2x4", ("1x8", "2x4", "4x2", "8x1")),
         DecisionSite("u0", 9, "max auto-unroll step", "16", ("0", "16", "64"))]
MODELS = ["small-a", "large-b"]


def test_schema_excludes_current_and_tried_values():
    schema = prompts.answer_schema(SITES, {("t0", "1x8")}, MODELS, 2)
    options = {o["properties"]["site"]["const"]: o["properties"]["value"]["enum"]
               for o in schema["properties"]["edits"]["items"]["oneOf"]}
    assert options == {"t0": ["4x2", "8x1"], "u0": ["0", "64"]}
    assert prompts.answer_schema(SITES, {("t0", v) for v in ("1x8", "4x2", "8x1")} | {("u0", "0"), ("u0", "64")},
                                 MODELS, 2) is None


def test_parse_keeps_legal_new_edits_only():
    answer = {"edits": [{"site": "t0", "value": "4x2"}, {"site": "t0", "value": "3x3"}, {"site": "u0", "value": "16"},
                        {"site": "zz", "value": "1"}, {"site": "t0", "value": "4x2"}], "next_model": "large-b"}
    good, bad, nxt = prompts.parse_answer(answer, SITES, set(), MODELS)
    assert good == [("t0", "4x2")]
    assert len(bad) == 3 and nxt == "large-b"
    assert prompts.parse_answer(None, SITES, set(), MODELS) == ([], [], None)


def test_prompt_shows_decisions_history_and_tried(target):
    root = Node(None, "root")
    parent = root.add_child(Node(None, "p", latency_s=2e-3))
    node = parent.add_child(Node(None, "n", edits={"t0": "2x4"}, latency_s=1.5e-3))
    system, user = prompts.build_prompt("def main(): ...", SITES, node, {("u0", "64")}, 1.5e-3, MODELS, target, 2)
    assert "CPU" in system
    assert "t0 tile factors" in user and "t0=2x4: 1.500 ms measured" in user
    assert "Already tried from here: u0=64" in user and "small-a, large-b" in user


def test_router_calls_large_model_after_k_regressions():
    team = Team("local-cpu")
    proposer = LLMProposer(team, regressions_before_large=2, max_edits=2, rng=random.Random(0))
    node = Node(None, "n")
    assert proposer.choose_model(node).role == "small"
    proposer.record("gemma3-270m", improved=False)
    proposer.record("qwen2.5-coder-0.5b", improved=False)
    assert proposer.choose_model(node) is team.large
    assert proposer.choose_model(node).role == "small"
    node.next_model = "qwen2.5-coder-0.5b"
    assert proposer.choose_model(node).name == "qwen2.5-coder-0.5b"
