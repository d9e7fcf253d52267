"""Prompt building, the option menu, the answer grammar and parsing (no LLM call)."""

import json
import random

from llama_cpp import LlamaGrammar

from litecoop.search import prompts
from litecoop.search import machine
from litecoop.search.machine import MachineFacts, host_facts
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


# a machine stated in full, so that what the prompt derives from it does not depend on where the tests run
AVX2_MACHINE = MachineFacts(cores=6, simd="AVX2", lanes=8, vector_registers=16, l1d_bytes=32 << 10,
                            l2_bytes=1 << 20, l3_bytes=16 << 20)
# a 64x64x64 matmul nest ("SSRSRS"): spatial i = 2x4x2x4, j = 1x2x4x8, reduction k = 16x4
NEST = [DecisionSite("t0", 3, "spatial loop 1 (extent 64), factors for levels S0 S1 S2 S3", "2x4x2x4", (), "S",
                     "SSRSRS", 0),
        DecisionSite("t1", 4, "spatial loop 2 (extent 64), factors for levels S0 S1 S2 S3", "1x2x4x8", (), "S",
                     "SSRSRS", 0),
        DecisionSite("t2", 5, "reduction loop 1 (extent 64), factors for levels R0 R1", "16x4", (), "R", "SSRSRS", 0)]


def test_prompt_shows_machine_options_and_history(target):
    root = Node(None, "root")
    parent = root.add_child(Node(None, "p", latency_s=2e-3))
    node = parent.add_child(Node(None, "n", edits={"t0": "8x8"}, latency_s=1.5e-3))
    codes = prompts.menu(SITES, set(), random.Random(0))
    system, user = prompts.build_prompt(SITES, node, codes, 1.5e-3, list(ALIASES), target, 2, AVX2_MACHINE)
    assert "CPU" in system
    assert "Machine: 6 cores; AVX2: 8 float32 lanes, 16 vector registers; L1d 32 KB, L2 1 MB, L3 16 MB." in user
    assert "t0 spatial loop 1" in user and f"t0a={codes['t0a'][1]}" in user
    assert "t0=8x8: 1.500 ms measured" in user and "270M, 1.5B" in user
    # t0 = 8x8 over "SS": the register block is the innermost 8 accumulators, one 8-lane register
    assert "register block 8 accumulators (8)" in user and "takes 1 of 16 vector registers;" in user


def test_nest_facts_measure_the_blocks_against_the_machine():
    """Parallel iterations = the S levels before the first R (2*4 x 1*2), the register block = the innermost S
    level (4 x 8 = 32 accumulators = 4 AVX2 registers), the block updated per outer reduction step = the S levels
    after the first R (8 x 32 floats = 1 KB, in L1d); the same tiles on a 4-lane machine with 8 registers spill."""
    lines = prompts.nest_facts(NEST, cpu=True, machine=AVX2_MACHINE)
    assert lines[0].startswith("Loop nest, outer to inner: S0 S1 R0 S2 R1 S3 ")
    assert lines[1] == ("Now: 16 parallel iterations; register block 32 accumulators (4 x 8); block updated per outer "
                        "reduction step 256 floats (1.0 KB): the register block takes 4 of 16 vector registers; the "
                        "cache block fits in L1d.")
    narrow = MachineFacts(2, "SSE", 4, 8, 32 << 10, 1 << 20, 0)
    assert "takes 8 of 8 vector registers (spills)" in prompts.nest_facts(NEST, cpu=True, machine=narrow)[1]
    assert len(prompts.nest_facts(NEST, cpu=False, machine=AVX2_MACHINE)) == 1  # a GPU: the nest only


def test_fit_rounds_registers_up_and_names_the_first_cache_that_holds_the_block():
    assert AVX2_MACHINE.fit(9, 1).startswith("the register block takes 2 of 16 vector registers;")  # 9 = 8 + 1 lane
    assert "takes 14 of 16 vector registers;" in AVX2_MACHINE.fit(14 * 8, 1)
    assert "takes 15 of 16 vector registers (spills)" in AVX2_MACHINE.fit(15 * 8, 1)  # two kept for operands
    assert AVX2_MACHINE.fit(8, 32 << 10).endswith("fits in L1d")
    assert AVX2_MACHINE.fit(8, (32 << 10) + 4).endswith("fits in L2")
    assert AVX2_MACHINE.fit(8, 17 << 20).endswith("fits in no cache level")


def fake_sysfs(root, caches):
    """A /sys/devices/system/cpu/cpu0/cache with one index<i> folder per (level, type, size) of `caches`."""
    for index, (level, kind, size) in enumerate(caches):
        folder = root / f"index{index}"
        folder.mkdir(parents=True)
        (folder / "level").write_text(f"{level}\n")
        (folder / "type").write_text(f"{kind}\n")
        (folder / "size").write_text(f"{size}\n")
    return root


def test_machine_facts_read_the_cache_sizes_from_sysfs(tmp_path, monkeypatch):
    """The level-1 data cache is told from the instruction cache by its type, whatever order sysfs lists them in;
    sizes in K and M; a missing level is 0 and left out of the description; `cores` overrides the count."""
    monkeypatch.setattr(machine, "CACHE_DIR", fake_sysfs(tmp_path / "cache", [
        (1, "Instruction", "32K"), (1, "Data", "48K"), (2, "Unified", "2048K"), (3, "Unified", "32M")]))
    host_facts.cache_clear()
    try:
        facts = host_facts(3)
        assert (facts.cores, facts.l1d_bytes, facts.l2_bytes, facts.l3_bytes) == (3, 48 << 10, 2 << 20, 32 << 20)
        assert facts.describe().startswith("3 cores; ") and facts.describe().endswith("; L1d 48 KB, L2 2 MB, L3 32 MB")
        monkeypatch.setattr(machine, "CACHE_DIR", fake_sysfs(tmp_path / "l1-only", [(1, "Data", "32K")]))
        host_facts.cache_clear()
        assert host_facts(3).describe().endswith("; L1d 32 KB") and host_facts(3).l2_bytes == 0
        monkeypatch.setattr(machine, "CACHE_DIR", tmp_path / "absent")
        host_facts.cache_clear()
        assert host_facts(3).describe().endswith("; cache sizes unknown")
    finally:
        host_facts.cache_clear()
