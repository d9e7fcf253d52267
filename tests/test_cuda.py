"""GPU target without a GPU: MetaSchedule's CUDA design space, a candidate edited through our decision
sites, compiled by TVM's CUDA codegen (nvcc), and its generated kernel inspected. Running it needs a GPU,
which this machine lacks, so nothing is measured here."""

import shutil

import pytest

from litecoop import prompts
from litecoop.measure import build_candidate
from litecoop.space import apply_edits, decision_sites, fresh_sample, replay
from litecoop.tree import Node


def test_gpu_design_space_binds_threads(cuda_matmul_context):
    _, spaces = cuda_matmul_context
    text = str(spaces[0].trace)
    assert "blockIdx.x" in text and "threadIdx.x" in text


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="TVM's CUDA codegen compiles with nvcc")
def test_edited_gpu_candidate_compiles_to_a_cuda_kernel(cuda_matmul_context):
    context, spaces = cuda_matmul_context
    postprocs = list(context.space_generator.postprocs)
    schedule = next(s for seed in range(1, 40) if (s := fresh_sample(spaces[0].trace, context.mod, postprocs, seed)))
    sites = decision_sites(schedule.trace)
    edits = [(site, value) for site in sites if site.key.startswith("t") for value in site.legal if value != site.current]
    # the GPU postprocessors (VerifyGPUCode) reject edits that exceed the thread or shared-memory limits
    edited = next(s for site, value in edits
                  if (s := replay(apply_edits(schedule.trace, [site], {site.key: value}), context.mod, postprocs)))
    library = build_candidate(edited.mod, context.target, None)
    source = library.imports[0].inspect_source()
    assert "__global__" in source and "threadIdx.x" in source and "blockIdx.x" in source


def test_gpu_prompt_carries_gpu_facts(cuda_matmul_context):
    context, spaces = cuda_matmul_context
    sites = decision_sites(spaces[0].trace)
    system, user = prompts.build_prompt(sites, Node(trace=spaces[0].trace, key="root"), {}, None, ["m"],
                                        context.target, 2)
    assert "132 SMs" in system and "warp 32" in system and "49152 B shared memory" in system
    assert "threadIdx" in user and "multiple of the warp size 32" in user
