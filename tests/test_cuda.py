"""GPU target without a GPU: MetaSchedule's CUDA design space, a candidate edited through our decision
sites, compiled by TVM's CUDA codegen (nvcc), and its generated kernel inspected. Running it needs a GPU,
which this machine lacks, so nothing is measured here."""

import shutil

import pytest
from tvm import relax
from tvm.s_tir import meta_schedule as ms
from tvm.script import relax as R

from litecoop import prompts
from litecoop.measure import build_candidate
from litecoop.space import apply_edits, decision_sites, fresh_sample, replay
from litecoop.targets import load_target
from litecoop.tree import Node
from litecoop.tuner import fuse


@pytest.fixture(scope="module")
def cuda_context():
    target = load_target("cuda-sm90")
    bb = relax.BlockBuilder()
    a = relax.Var("a", R.Tensor((1, 64, 256), "float32"))
    b = relax.Var("b", R.Tensor((256, 128), "float32"))
    with bb.function("main", [a, b]):
        with bb.dataflow():
            out = bb.emit_output(bb.emit(relax.op.matmul(a, b)))
        bb.emit_func_output(out)
    task = next(t for t in ms.relax_integration.extract_tasks(fuse(bb.get(), target), target) if "matmul" in t.task_name)
    context = ms.TuneContext(mod=task.dispatched[0], target=target, space_generator="post-order-apply",
                             search_strategy="replay-trace", num_threads=2)
    return target, context, context.generate_design_space()


def test_gpu_design_space_binds_threads(cuda_context):
    _, _, spaces = cuda_context
    text = str(spaces[0].trace)
    assert "blockIdx.x" in text and "threadIdx.x" in text


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="TVM's CUDA codegen compiles with nvcc")
def test_edited_gpu_candidate_compiles_to_a_cuda_kernel(cuda_context):
    target, context, spaces = cuda_context
    postprocs = list(context.space_generator.postprocs)
    schedule = next(s for seed in range(1, 40) if (s := fresh_sample(spaces[0].trace, context.mod, postprocs, seed)))
    sites = decision_sites(schedule.trace)
    edits = [(site, value) for site in sites if site.key.startswith("t") for value in site.legal if value != site.current]
    # the GPU postprocessors (VerifyGPUCode) reject edits that exceed the thread or shared-memory limits
    edited = next(s for site, value in edits
                  if (s := replay(apply_edits(schedule.trace, [site], {site.key: value}), context.mod, postprocs)))
    library = build_candidate(edited.mod, target, None)
    source = library.imports[0].inspect_source()
    assert "__global__" in source and "threadIdx.x" in source and "blockIdx.x" in source


def test_gpu_prompt_carries_gpu_facts(cuda_context):
    target, _, spaces = cuda_context
    sites = decision_sites(spaces[0].trace)
    system, user = prompts.build_prompt("def main(): ...", sites, Node(trace=spaces[0].trace, key="root"), set(), None,
                                        ["m"], target, 2)
    assert "132 SMs" in system and "warp 32" in system and "49152 B shared memory" in system
    assert "threadIdx" in user and "multiple of the warp size 32" in user
