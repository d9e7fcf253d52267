"""Decision legality on a real MetaSchedule design space."""

import itertools
import math

import pytest

from litecoop.search import prompts
from litecoop.search.space import apply_edits, decision_sites, decisions_key, factorizations, fresh_sample, replay


def test_factorizations_match_brute_force():
    got = set(factorizations(48, 3, 16))
    want = {t for t in itertools.product(range(1, 49), repeat=3) if math.prod(t) == 48 and t[-1] <= 16}
    assert got == want


def test_sites_cover_tiles_and_unroll_with_legal_values(matmul_context):
    context, spaces = matmul_context
    sites = decision_sites(spaces[0].trace)
    assert any(s.key.startswith("t") for s in sites) and any(s.key.startswith("u") for s in sites)
    for site in sites:
        assert site.current in site.legal
        if site.key.startswith("t"):
            extent = math.prod(int(x) for x in site.current.split("x"))
            assert all(math.prod(int(x) for x in v.split("x")) == extent for v in site.legal)


def test_every_legal_tile_edit_replays(matmul_context):
    context, spaces = matmul_context
    trace = spaces[0].trace
    postprocs = list(context.space_generator.postprocs)
    site = next(s for s in decision_sites(trace) if s.key.startswith("t") and len(s.legal) > 2)
    keys = set()
    for value in site.legal[:6]:
        edited = apply_edits(trace, [site], {site.key: value})
        assert replay(edited, context.mod, postprocs) is not None
        keys.add(decisions_key(edited))
    assert len(keys) == len(site.legal[:6])


def test_illegal_value_is_refused(matmul_context):
    context, spaces = matmul_context
    sites = decision_sites(spaces[0].trace)
    with pytest.raises(ValueError):
        apply_edits(spaces[0].trace, sites, {sites[0].key: "3x5x7x11"})


def test_fresh_samples_differ(matmul_context):
    context, spaces = matmul_context
    postprocs = list(context.space_generator.postprocs)
    keys = {decisions_key(fresh_sample(spaces[0].trace, context.mod, postprocs, seed).trace) for seed in range(8)}
    assert len(keys) > 1


def test_tile_sites_know_their_place_in_the_loop_nest(matmul_context):
    context, spaces = matmul_context
    tiled = [space for space in spaces if "SSRSRS" in str(space.trace)]
    assert tiled, "MetaSchedule's CPU space for a matmul has a multi-level tiling sketch"
    sites = [s for s in decision_sites(tiled[0].trace) if s.key.startswith("t")]
    assert [(s.kind, len(s.factors)) for s in sites] == [("S", 4), ("S", 4), ("R", 2)]  # rows, columns, k
    assert [math.prod(s.factors) for s in sites] == [16, 128, 256]
    rows, cols, _ = (s.factors for s in sites)
    lines = prompts.nest_facts(sites, cpu=True)
    assert lines[0].startswith("Loop nest, outer to inner: S0 S1 R0 S2 R1 S3")
    parallel = rows[0] * rows[1] * cols[0] * cols[1]
    assert lines[1].startswith(f"Now: {parallel} parallel iterations; register block {rows[3] * cols[3]} accumulators")
    assert prompts.nest_facts(sites, cpu=False) == lines[:1]
