"""Prompts that show an LLM a node of the tree, and the grammar that admits only legal answers.

The answer is one JSON object: `{"edits": [{"site": "t1", "value": "2x4x4x8"}, ...], "next_model": NAME}`.
Its JSON schema lists, per decision site, every legal value except the current one and those already
tried from this node, so a grammar-constrained model cannot produce an illegal tile or a repeat.
"""

from __future__ import annotations

import math

from .space import DecisionSite
from .targets import gpu_facts
from .tree import Node

SYSTEM = ("You are a compiler engineer tuning the loop schedule of one tensor program on {target}. "
          "You change schedule decisions (tile factors, unroll steps) to make it faster. Answer in JSON.")

CPU_HINTS = ("Hints: the innermost factor of the last (contiguous) loop is the vector width; for float32 prefer "
             "a multiple of {lanes}. Outer factors become parallel work for {cores} cores. The register block should "
             "fit in 16 vector registers of {lanes} floats; middle factors set the block that must fit in cache.")
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


def nest_facts(sites: list[DecisionSite], cpu: bool) -> list[str]:
    """Lines that place the tile factors in their MultiLevelTiling loop nest and, on a CPU, what the current
    factors amount to: parallel iterations (S levels before the first R level), the register block (the
    innermost S level) and the block updated within each outer reduction step (S levels after the first R).
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
                     f"{inner} floats ({inner * 4 / 1024:.1f} KB).")
    return lines


def _describe(node: Node) -> str:
    if node.latency_s is not None:
        return f"{node.latency_s * 1e3:.3f} ms measured"
    if node.failed:
        return "failed"
    return f"not measured, predicted score {node.predicted:.2f}"


def build_prompt(program: str, sites: list[DecisionSite], node: Node, tried: set[tuple[str, str]],
                 best_latency_s: float | None, models: list[str], target, max_edits: int,
                 program_chars: int = 1200) -> tuple[str, str]:
    """(system, user) messages for expanding `node`.

    The system text and the program come first and do not change within a task, so llama.cpp's KV cache
    reuses them from one call to the next; the per-node part follows.
    """
    description, hints = target_summary(target)
    lines = ["Program (TVMScript, abridged):", program[:program_chars], "", hints, "",
             "Current decisions:"]
    lines += [f"{s.key} {s.label}: {s.current}" for s in sites]
    lines += nest_facts(sites, target.kind.name != "cuda")
    lines += ["", "Path to this schedule:"]
    for step in node.path():
        change = ", ".join(f"{k}={v}" for k, v in step.edits.items()) or "start"
        lines.append(f"- {change}: {_describe(step)}")
    if tried:
        lines.append("Already tried from here: " + ", ".join(f"{k}={v}" for k, v in sorted(tried)))
    if best_latency_s is not None:
        lines.append(f"Best so far: {best_latency_s * 1e3:.3f} ms.")
    lines.append(f"Propose up to {max_edits} edits that make it faster, and choose next_model from "
                 f"{', '.join(models)} (smaller is cheaper).")
    return SYSTEM.format(target=description), "\n".join(lines)


def answer_schema(sites: list[DecisionSite], tried: set[tuple[str, str]], models: list[str], max_edits: int) -> dict | None:
    """JSON schema of a legal answer; None if no site has an untried legal value left."""
    options = []
    for site in sites:
        values = [v for v in site.legal if v != site.current and (site.key, v) not in tried]
        if values:
            options.append({"type": "object", "additionalProperties": False,
                            "properties": {"site": {"const": site.key}, "value": {"enum": values}},
                            "required": ["site", "value"]})
    if not options:
        return None
    return {"type": "object", "additionalProperties": False,
            "properties": {"edits": {"type": "array", "minItems": 1, "maxItems": max_edits,
                                     "items": {"oneOf": options}},
                           "next_model": {"enum": models}},
            "required": ["edits", "next_model"]}


def parse_answer(answer: dict | None, sites: list[DecisionSite], tried: set[tuple[str, str]],
                 models: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str | None]:
    """Split an answer into (legal new edits, rejected edits, next model or None).

    An edit is rejected if its site is unknown, its value illegal or equal to the current value,
    or it was already tried. Repeats within the answer are dropped.
    """
    if not isinstance(answer, dict):
        return [], [], None
    by_key = {site.key: site for site in sites}
    good, bad = [], []
    for edit in answer.get("edits") or []:
        pair = (str(edit.get("site")), str(edit.get("value"))) if isinstance(edit, dict) else ("?", "?")
        site = by_key.get(pair[0])
        if site is None or pair[1] not in site.legal or pair[1] == site.current or pair in tried:
            bad.append(pair)
        elif pair not in good:
            good.append(pair)
    next_model = answer.get("next_model")
    return good, bad, next_model if next_model in models else None
