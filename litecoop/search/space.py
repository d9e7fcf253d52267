"""Decisions of a MetaSchedule trace, and the legal values each may take.

A trace of the design space (a sketch) holds sampling instructions; each has a decision:
`SamplePerfectTile` a tuple of tile factors whose product is the loop extent, `SampleCategorical`
an index into a list of candidate values (the unroll step), `SampleComputeLocation` a loop index.
Only the first two have a legal set we can enumerate exactly; compute locations and the parallel
extent are left to MetaSchedule's mutators.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from tvm.s_tir import Schedule
from tvm.s_tir.schedule import Trace


@lru_cache(maxsize=4096)
def factorizations(extent: int, parts: int, max_innermost: int) -> tuple[tuple[int, ...], ...]:
    """All ordered tuples of `parts` positive integers whose product is `extent`,
    with the innermost factor at most `max_innermost` (MetaSchedule's SamplePerfectTile rule)."""
    if parts == 1:
        return ((extent,),) if extent <= max_innermost else ()
    result = []
    for first in range(1, extent + 1):
        if extent % first == 0:
            result.extend((first,) + rest for rest in factorizations(extent // first, parts - 1, max_innermost))
    return tuple(result)


@dataclass(frozen=True)
class DecisionSite:
    """One sampling instruction of a trace whose decision may be rewritten.

    `key` is a short stable name shown to the LLM ("t0", "u0"); `label` says what the decision does;
    `legal` holds every value (as text) the decision may take, the current one included. A tile of a
    MultiLevelTiling nest has `kind` "S" (spatial loop) or "R" (reduction loop), the nest's `structure`
    (e.g. "SSRSRS", outer to inner: factor i of a spatial loop sizes the nest's i-th S level) and the
    nest's number in the trace (`nest`).
    """

    key: str
    inst_index: int
    label: str
    current: str
    legal: tuple[str, ...]
    kind: str = ""
    structure: str = ""
    nest: int = -1

    @property
    def factors(self) -> tuple[int, ...]:
        """The current tile factors, outer to inner (a tile site only)."""
        return tuple(int(x) for x in self.current.split("x"))

    def value_of(self, text: str):
        """The decision object TVM expects for a legal text value."""
        if self.key.startswith("t"):
            return [int(x) for x in text.split("x")]
        return self.legal.index(text)


TILING_STRUCTURE = "meta_schedule.tiling_structure"  # MultiLevelTiling's annotation, e.g. "SSRSRS"


def tile_text(factors) -> str:
    """Tile factors as a site's text value, e.g. (4, 8, 2) -> "4x8x2"."""
    return "x".join(str(int(f)) for f in factors)


def decision_sites(trace, max_choices: int = 48, rng: random.Random | None = None) -> list[DecisionSite]:
    """The rewritable decisions of `trace`: tile sizes and categorical (unroll) choices.

    For a tile with more than `max_choices` legal factorizations, keep the nearest ones to the
    current value (in log space) and a random sample of the rest, so a grammar stays small.
    """
    rng = rng or random.Random(0)
    sites = []
    tiles = unrolls = 0
    structure, loops, nest = "", {"S": 0, "R": 0}, -1
    for index, inst in enumerate(trace.insts):
        if inst.kind.name == "Annotate" and str(inst.attrs[0]) == TILING_STRUCTURE:
            structure, loops, nest = str(inst.inputs[1]), {"S": 0, "R": 0}, nest + 1
        if inst not in trace.decisions:
            continue
        decision = trace.decisions[inst]
        name = inst.kind.name
        if name == "SamplePerfectTile":
            current = tuple(int(x) for x in decision)
            extent = math.prod(current)
            legal = factorizations(extent, len(current), int(inst.attrs[1]) or extent)
            if len(legal) <= 1:
                continue
            legal = _shortlist(legal, current, max_choices, rng)
            kind = next((k for k in "SR" if structure.count(k) == len(current)), "")
            label = f"tile factors of a loop of extent {extent}, outer to inner"
            if kind:
                loops[kind] += 1
                levels = " ".join(f"{kind}{i}" for i in range(len(current)))
                label = (f"{'spatial' if kind == 'S' else 'reduction'} loop {loops[kind]} (extent {extent}), "
                         f"factors for levels {levels}")
            sites.append(DecisionSite(f"t{tiles}", index, label, tile_text(current), tuple(tile_text(v) for v in legal),
                                      kind, structure if kind else "", nest if kind else -1))
            tiles += 1
        elif name == "SampleCategorical":
            candidates = [str(int(c)) for c in inst.attrs[0]]
            sites.append(DecisionSite(f"u{unrolls}", index, "max auto-unroll step", candidates[int(decision)],
                                      tuple(candidates)))
            unrolls += 1
    return sites


def log_distance(factors, other) -> float:
    """Distance of two tile factor tuples: the sum over positions of |log2 a - log2 b|."""
    return sum(abs(math.log2(a) - math.log2(b)) for a, b in zip(factors, other))


def _shortlist(legal, current, limit, rng):
    if len(legal) <= limit:
        return legal

    ranked = sorted(legal, key=lambda value: log_distance(value, current))
    near = ranked[: limit // 2]
    far = rng.sample(ranked[limit // 2:], limit - len(near))
    return tuple(sorted(set(near) | set(far) | {current}))


def apply_edits(trace, sites: list[DecisionSite], edits: dict[str, str]):
    """A new trace with the decisions of `edits` ({site key: legal text value}) replaced.

    Raises KeyError/ValueError if an edit names an unknown site or an illegal value.
    """
    by_key = {site.key: site for site in sites}
    for key, text in edits.items():
        site = by_key[key]
        if text not in site.legal:
            raise ValueError(f"{text} is not a legal value of {key}")
        trace = trace.with_decision(trace.insts[site.inst_index], site.value_of(text), remove_postproc=True)
    return trace


def replay(trace, mod, postprocs, seed: int = 0) -> Schedule | None:
    """Apply `trace` to `mod` and run the postprocessors; None if the schedule is not legal."""
    sch = Schedule(mod, seed=seed % 2147483646 + 1, debug_mask=0, error_render_level="none")
    try:
        trace.apply_to_schedule(sch, remove_postproc=True)
        sch.enter_postproc()
        if not all(postproc.apply(sch) for postproc in postprocs):
            return None
    except Exception:  # noqa: BLE001 - TVM raises many error types for an illegal schedule
        return None
    return sch


def fresh_sample(sketch_trace, mod, postprocs, seed: int) -> Schedule | None:
    """Replay a sketch with its decisions dropped, so every sampling instruction draws anew
    (MetaSchedule's initial population). Returns the postprocessed schedule, or None if illegal."""
    return replay(Trace(sketch_trace.insts, {}), mod, postprocs, seed)


def fresh_samples(sketch_trace, mod, postprocs, rng, wanted: int, draws_per_sample: int = 8) -> list[Schedule]:
    """Up to `wanted` legal fresh samples of a sketch, drawing at most `draws_per_sample` times as many
    (most GPU draws fail VerifyGPUCode); `rng` (random.Random) seeds each draw."""
    samples = []
    for _ in range(wanted * draws_per_sample):
        if len(samples) == wanted:
            break
        if (sch := fresh_sample(sketch_trace, mod, postprocs, rng.randrange(1 << 30))) is not None:
            samples.append(sch)
    return samples


def decisions_key(trace) -> str:
    """A string that identifies a trace's decisions (same sketch, same decisions -> same program), the
    same for a sketch-derived trace and a database record's trace, which carries postprocessing too."""
    insts = sketch_insts(trace)
    return f"{len(insts)}|" + ";".join(f"{inst.kind.name}:{trace.decisions[inst]}" for inst in insts if inst in trace.decisions)


def sketch_insts(trace) -> list:
    """The instructions of `trace` before postprocessing."""
    insts = []
    for inst in trace.insts:
        if inst.kind.name == "EnterPostproc":
            break
        insts.append(inst)
    return insts


@lru_cache(maxsize=65536)
def skeleton(trace) -> tuple:
    """The instructions of `trace` before postprocessing as (kind, attributes), decisions and block names left
    out: two traces with the same skeleton are the same sketch of the same operator, whatever its loop extents
    and whatever the model named its blocks (cached: a warm start compares every record with every sketch)."""
    return tuple((inst.kind.name, () if inst.kind.name == "GetSBlock" else tuple(str(a) for a in inst.attrs))
                 for inst in sketch_insts(trace))


def extent_distance(record_trace, sketch_trace) -> float:
    """How far the loop extents tiled in `record_trace` are from those of `sketch_trace`, the same sketch: the
    sum over its tiled loops of |log(extent / other extent)| (0 for the same shape)."""
    def extents(trace):
        return [math.prod(int(x) for x in trace.decisions[inst]) for inst in sketch_insts(trace)
                if inst.kind.name == "SamplePerfectTile" and inst in trace.decisions]
    return sum(abs(math.log(a / b)) for a, b in zip(extents(record_trace), extents(sketch_trace)))


def transfer(record_trace, sketch_trace) -> Trace | None:
    """`record_trace`'s decisions moved onto `sketch_trace`, a sketch of the same operator with other loop
    extents (warm start from a similar shape). Each tile becomes the legal factorization of the new extent
    nearest by `log_distance`, ties going to the one that keeps the inner factors (vector width, cache
    tile); categorical and compute-location decisions are kept. Returns None when the skeletons differ; the result may still fail `replay`."""
    if skeleton(record_trace) != skeleton(sketch_trace):
        return None
    decisions = {}
    for old, new in zip(sketch_insts(record_trace), sketch_insts(sketch_trace)):
        if old not in record_trace.decisions or new not in sketch_trace.decisions:
            continue
        decision = record_trace.decisions[old]
        if new.kind.name == "SamplePerfectTile":
            wanted = [int(x) for x in decision]
            extent = math.prod(int(x) for x in sketch_trace.decisions[new])
            legal = factorizations(extent, len(wanted), int(new.attrs[1]) or extent)
            decision = list(min(legal, key=lambda value: (log_distance(value, wanted),
                                                          [log_distance([a], [b]) for a, b in zip(value[::-1], wanted[::-1])])))
        decisions[new] = decision
    return Trace(sketch_insts(sketch_trace), decisions)


def nearest_transfers(traces, sketch_trace) -> Iterator[Trace]:
    """The `traces` (measured schedules, maybe of other shapes) whose skeleton is `sketch_trace`'s, moved onto it
    (`transfer`) one at a time as the caller takes them, those of the nearest shapes first (`extent_distance`),
    then in the order given."""
    fitting = sorted((trace for trace in traces if skeleton(trace) == skeleton(sketch_trace)),
                     key=lambda trace: extent_distance(trace, sketch_trace))
    return (transfer(trace, sketch_trace) for trace in fitting)
