"""Prompt building, the option menu, the answer grammar and parsing (no LLM call)."""

import json
import random

from llama_cpp import LlamaGrammar

from litecoop.search import prompts
from litecoop.search.machine import host_facts
from litecoop.search.space import DecisionSite
from litecoop.search.tree import Node

LEGAL_64 = tuple(f"{a}x{64 // a}" for a in (1, 2, 4, 8, 16, 32, 64))
SITES = [DecisionSite("t0", 3, "spatial loop 1 (extent 64), factors for levels S0 S1", "8x8", LEGAL_64, "S", "SS", 0),
         DecisionSite("u0", 9, "max auto-unroll step", "16", ("0", "16", "64"))]
ALIASES = {"270M": "small-a", "1.5B": "large-b"}


def test_model_aliases_are_sizes_unless_they_collide():
    assert prompts.model_aliases({"a": 270e6, "b": 494e6, "c": 1.54e9}) == {"270M": "a", "494M": "b", "1.5B": "c"}
    assert prompts.model_aliases({"a": 1.5e9, "b": 1.54e9}) == {"a": "a", "b": "b"}


def test_menu_excludes_current_and_tried_values_and_keeps_near_tiles_first():
    codes = prompts.menu(SITES, {("t0", "4x16")}, random.Random(0), per_site=4)
    tiles = [value for code, (key, value) in codes.items() if key == "t0"]
    assert "8x8" not in tiles and "4x16" not in tiles and len(tiles) == 4
    assert set(tiles[:2]) == {"16x4", "2x32"}  # the nearest untried factorizations in log2 space
    assert {v for k, v in codes.values() if k == "u0"} == {"0", "64"}
    assert list(codes)[:2] == ["t0a", "t0b"]
    everything_tried = {("t0", v) for v in LEGAL_64} | {("u0", "0"), ("u0", "64")}
    assert prompts.menu(SITES, everything_tried, random.Random(0)) == {}
    assert prompts.answer_schema({}, list(ALIASES), 2) is None


def test_grammar_admits_exactly_the_schema_in_compact_json():
    codes = prompts.menu(SITES, set(), random.Random(0))
    grammar = prompts.answer_grammar(codes, list(ALIASES), 2)
    LlamaGrammar.from_string(grammar, verbose=False)  # llama.cpp parses it
    assert '"\\"t0a\\""' in grammar and '"\\"u0b\\""' in grammar and '"\\"1.5B\\""' in grammar
    assert 'root ::= "{\\"edits\\":[" code ("," code)? "],\\"next\\":" alias "}"' in grammar  # no whitespace
    longest = json.dumps({"edits": [max(codes, key=len)] * 2, "next": "270M"}, separators=(",", ":"))
    assert prompts.answer_tokens(codes, list(ALIASES), 2) >= len(longest)


def test_parse_maps_codes_back_and_rejects_unknown_ones():
    codes = prompts.menu(SITES, set(), random.Random(0))
    good, bad, nxt = prompts.parse_answer({"edits": ["t0a", "t0b", "zz9", "t0a", "u0a"], "next": "1.5B"}, codes, ALIASES)
    assert good == [codes["t0a"], codes["t0b"], codes["u0a"]] and bad == ["zz9"] and nxt == "large-b"
    assert prompts.parse_answer(None, codes, ALIASES) == ([], [], None)


def test_prompt_shows_machine_options_and_history(target):
    root = Node(None, "root")
    parent = root.add_child(Node(None, "p", latency_s=2e-3))
    node = parent.add_child(Node(None, "n", edits={"t0": "8x8"}, latency_s=1.5e-3))
    codes = prompts.menu(SITES, set(), random.Random(0))
    system, user = prompts.build_prompt(SITES, node, codes, 1.5e-3, list(ALIASES), target, 2, host_facts(2))
    assert "CPU" in system
    assert "vector registers" in user and "L1d" in user
    assert "t0 spatial loop 1" in user and f"t0a={codes['t0a'][1]}" in user
    assert "t0=8x8: 1.500 ms measured" in user and "270M, 1.5B" in user
    assert "register block 8 accumulators" in user and "of 32 vector registers" in user


def test_machine_facts_read_this_machine():
    facts = host_facts(2)
    assert facts.cores == 2 and facts.lanes in (4, 8, 16) and facts.vector_registers >= 16
    assert facts.l1d_bytes > 0 and facts.l2_bytes > facts.l1d_bytes
    assert "spills" in facts.fit(register_block=facts.lanes * facts.vector_registers, cache_block_bytes=1)
    assert facts.fit(facts.lanes, facts.l1d_bytes).endswith("fits in L1d")
