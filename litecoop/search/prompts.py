"""Prompts that show an LLM a node of the tree, and the grammar that admits only legal answers.

The prompt lists, per decision site, a menu of legal values other than the current one and those already
tried from this node, each under a short code ("t1c=2x4x4x8"). The answer is one JSON object naming codes,
`{"edits": ["t1c", "u0a"], "next": "0.5B"}`: a grammar-constrained model cannot produce an illegal tile or a
repeat, and an answer costs ~20 tokens instead of ~90 when values were spelled out.
"""

from __future__ import annotations

import math
import random

from litecoop.search.space import DecisionSite, log_distance
from litecoop.targets import gpu_facts
from litecoop.search.tree import Node

SYSTEM = ("You are a compiler engineer tuning the loop schedules of tensor programs on {target}. "
          "You change schedule decisions (tile factors, unroll steps) to make them faster. Answer in JSON.")
PATH_STEPS = 4  # the last steps of the path to a node shown in its prompt
OPTION_LETTERS = "abcdefgh"
OPTIONS_PER_SITE = len(OPTION_LETTERS)
FAR_OPTIONS = 2  # of a tile's options, drawn from beyond the nearest factorizations

CPU_HINTS = ("Hints: the innermost factor of the last (contiguous) loop is the vector width; for float32 prefer "
             "a multiple of {lanes}. Outer factors become parallel work for {cores} cores. The register block should "
             "fit in the vector registers; middle factors set the block that must fit in cache.")
GPU_HINTS = ("Hints: the outer tile factors become thread blocks (blockIdx) spread over {sms} SMs: make at least "
             "{sms} blocks. The next factors become threads (threadIdx): keep their product a multiple of the warp "
             "size {warp} and at most {threads}. Reduction tiles stage operands in shared memory ({smem} B per block).")


def target_summary(target) -> tuple[str, str]:
    """(description, tuning hints) of a TVM target, for prompts: vector lanes and cores of a CPU; SM count,
    warp size, threads per block, shared memory and registers of a GPU, read from the GPU when this machine
    has one (`targets.gpu_facts`)."""
    attrs = target.attrs
    if target.kind.name == "cuda":
        facts = gpu_facts(target)
        registers = f" and {facts['registers']} registers" if facts["registers"] else ""
        name = "" if facts["source"] == "preset" else f"{facts['source']}, "
        return (f"an NVIDIA GPU ({name}{attrs.get('arch', 'sm_90')}, {facts['sms']} SMs, warp {facts['warp']}, "
                f"{facts['smem']} B shared memory{registers} per block)", GPU_HINTS.format(**facts))
    mcpu = str(attrs.get("mcpu", "cpu"))
    cores = int(attrs.get("num-cores", 1))
    lanes = 16 if ("avx512" in str(attrs.get("mattr", "")) or mcpu.startswith(("znver4", "znver5", "skylake-avx512", "sapphirerapids", "icelake"))) else 8
    return f"a {cores}-core x86-64 CPU ({mcpu})", CPU_HINTS.format(lanes=lanes, cores=cores)


def nest_facts(sites: list[DecisionSite], cpu: bool, machine=None) -> list[str]:
    """Lines that place the tile factors in their MultiLevelTiling loop nest and, on a CPU, what the current
    factors amount to: parallel iterations (S levels before the first R level), the register block (the
    innermost S level) and the block updated within each outer reduction step (S levels after the first R),
    measured against `machine` (machine.MachineFacts: registers, caches) when given.
    Only the trace's first nest is described; empty when no site belongs to one."""
    first = next((site for site in sites if site.structure), None)
    if first is None:
        return []
    structure = first.structure
    spatial = [site.factors for site in sites if site.kind == "S" and site.nest == first.nest]
    counts = {"S": 0, "R": 0}
    levels = []
    for kind in structure:
        levels.append(f"{kind}{counts[kind]}")
        counts[kind] += 1
    lines = [f"Loop nest, outer to inner: {' '.join(levels)} (factor i of a spatial loop sizes its level Si, "
             f"of a reduction loop its level Ri)."]
    if cpu and spatial:
        first_reduction = structure.index("R") if "R" in structure else len(structure)
        outer = structure[:first_reduction].count("S")

        def block(start: int, stop: int) -> int:
            return math.prod(math.prod(f[start:stop]) for f in spatial)

        register, inner = block(len(spatial[0]) - 1, len(spatial[0])), block(outer, len(spatial[0]))
        lines.append(f"Now: {block(0, outer)} parallel iterations; register block {register} accumulators "
                     f"({' x '.join(str(f[-1]) for f in spatial)}); block updated per outer reduction step "
                     f"{inner} floats ({inner * 4 / 1024:.1f} KB)"
                     + (f": {machine.fit(register, inner * 4)}." if machine is not None else "."))
    return lines


def _describe(node: Node) -> str:
    if node.latency_s is not None:
        return f"{node.latency_s * 1e3:.3f} ms measured"
    if node.failed:
        return "failed"
    return f"not measured, predicted score {node.predicted:.2f}"


def model_aliases(models: dict[str, float]) -> dict[str, str]:
    """Short names of the team's models for answers ({alias: model name}): their sizes, e.g. "270M", "1.5B"
    (one token or two each), or the names themselves when two sizes print alike."""
    aliases = {(f"{p / 1e9:.1f}B" if p >= 1e9 else f"{p / 1e6:.0f}M"): name for name, p in models.items()}
    return aliases if len(aliases) == len(models) else {name: name for name in models}


def menu(sites: list[DecisionSite], tried: set[tuple[str, str]], rng: random.Random,
         per_site: int = OPTIONS_PER_SITE) -> dict[str, tuple[str, str]]:
    """The options an answer may name: {code: (site key, value)}, codes like "t0c". Per site, up to `per_site`
    untried legal values other than the current one: for a tile, the nearest factorizations in log2 space
    and a few far ones (`FAR_OPTIONS`) drawn with `rng`; every value of a smaller site."""
    codes = {}
    for site in sites:
        values = [v for v in site.legal if v != site.current and (site.key, v) not in tried]
        if site.key.startswith("t") and len(values) > per_site:
            current = site.factors
            values.sort(key=lambda v: log_distance([int(x) for x in v.split("x")], current))
            values = values[: per_site - FAR_OPTIONS] + rng.sample(values[per_site - FAR_OPTIONS:], FAR_OPTIONS)
        codes.update({f"{site.key}{letter}": (site.key, value) for letter, value in zip(OPTION_LETTERS, values)})
    return codes


def build_prompt(sites: list[DecisionSite], node: Node, codes: dict[str, tuple[str, str]], best_latency_s: float | None,
                 aliases: list[str], target, max_edits: int, machine=None) -> tuple[str, str]:
    """(system, user) messages for expanding `node`: the machine, the decisions with what they amount to and
    the options (`codes`, from `menu`) to choose from (no program text: the decision labels carry the loop
    extents), and the last `PATH_STEPS` steps of the path with their latencies.

    The system text, the machine and the hints come first and do not change within a run, so llama.cpp's
    KV cache reuses them from one call to the next; the per-node part follows.
    """
    description, hints = target_summary(target)
    options: dict[str, list[str]] = {}
    for code, (key, value) in codes.items():
        options.setdefault(key, []).append(f"{code}={value}")
    lines = ([f"Machine: {machine.describe()}."] if machine is not None else []) + [hints, "", "Decisions now:"]
    for site in sites:
        lines.append(f"{site.key} {site.label}: {site.current}")
        if site.key in options:
            lines.append("  options: " + " ".join(options[site.key]))
    lines += nest_facts(sites, target.kind.name != "cuda", machine)
    lines += ["", "Path to this schedule (last steps):"]
    for step in node.path()[-PATH_STEPS:]:
        change = ", ".join(f"{k}={v}" for k, v in step.edits.items()) or "start"
        lines.append(f"- {change}: {_describe(step)}")
    if best_latency_s is not None:
        lines.append(f"Best so far: {best_latency_s * 1e3:.3f} ms.")
    lines.append(f"Answer with up to {max_edits} option codes that make it faster, and the model to go next "
                 f"({', '.join(aliases)}; smaller is cheaper).")
    return SYSTEM.format(target=description), "\n".join(lines)


def answer_tokens(codes: dict, aliases: list[str], max_edits: int) -> int:
    """The completion-token cap of an answer: the characters of the longest one `answer_grammar` admits (a
    token holds at least one character, so no answer is cut)."""
    return len('{"edits":[],"next":""}') + max_edits * (max(map(len, codes)) + 3) + max(map(len, aliases))


def answer_schema(codes: dict[str, tuple[str, str]], aliases: list[str], max_edits: int) -> dict | None:
    """JSON schema of a legal answer, `{"edits": [code, ...], "next": alias}`; None without options."""
    if not codes:
        return None
    return {"type": "object", "additionalProperties": False,
            "properties": {"edits": {"type": "array", "minItems": 1, "maxItems": max_edits,
                                     "items": {"enum": list(codes)}},
                           "next": {"enum": aliases}},
            "required": ["edits", "next"]}


def answer_grammar(codes: dict[str, tuple[str, str]], aliases: list[str], max_edits: int) -> str:
    """A GBNF grammar (llama.cpp) for the answers of `answer_schema`, as compact JSON with no whitespace."""
    def alternatives(names) -> str:
        return " | ".join(f'"\\"{name}\\""' for name in names)

    more = ' ("," code)?' * (max_edits - 1)
    return (f'root ::= "{{\\"edits\\":[" code{more} "],\\"next\\":" alias "}}"\n'
            f"code ::= {alternatives(codes)}\nalias ::= {alternatives(aliases)}\n")


def parse_answer(answer: dict | None, codes: dict[str, tuple[str, str]],
                 aliases: dict[str, str]) -> tuple[list[tuple[str, str]], list[str], str | None]:
    """Split an answer into (edits as (site key, value), rejected codes, next model's name or None).

    A code is rejected if it is not on the menu; repeats are dropped. Two codes of one site are two
    alternatives for it."""
    if not isinstance(answer, dict):
        return [], [], None
    good, bad = [], []
    for code in answer.get("edits") or []:
        edit = codes.get(str(code))
        if edit is None:
            bad.append(str(code))
        elif edit not in good:
            good.append(edit)
    return good, bad, aliases.get(str(answer.get("next")))
