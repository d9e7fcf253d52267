"""GPU target without a GPU: MetaSchedule's CUDA design space, a candidate edited through our decision
sites, compiled by TVM's CUDA codegen and then by nvcc through TVM, the device that final timings run on,
the GPU facts of prompts, and the GPU peer fields of the report. Running a kernel needs a GPU, which this
machine lacks: where a test needs one, the test says what it stands in for."""

import re
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import tvm
import tvm.support.nvcc  # noqa: F401 - registers TVM's CUDA compile callback
from rich.console import Console
from tvm.s_tir import Schedule

from conftest import build_matmul_context
from litecoop.measure import gpu_peers, latency
from litecoop.search import prompts
from litecoop.build import compiler
from litecoop import workload
from litecoop.errors import UserError
from litecoop.measure.builder_runner import build_candidate
from litecoop.report.tune_report import TuneReport, gpu_peer_markdown, summary_table
from litecoop.tuning.run import run_tune
from litecoop.tuning.config import TuneConfig
from litecoop.search.settings import SearchSettings
from litecoop.search.space import apply_edits, decision_sites, fresh_sample, replay
from litecoop.search.tree_search import TreeSearch
from litecoop.targets import gpu_facts, load_target
from litecoop.search.tree import Node


@pytest.mark.slow  # the CUDA design space: TVM parses its CUDA tensor intrinsics first (~15 s)
def test_gpu_design_space_binds_threads_and_stages_in_shared_memory(cuda_matmul_context):
    _, spaces = cuda_matmul_context
    for space in spaces:  # float32: MetaSchedule's SIMT rules, no tensor cores
        text = str(space.trace)
        assert "blockIdx.x" in text and "threadIdx.x" in text and '"shared"' in text
        assert "auto_tensorize" not in text


@pytest.mark.slow  # the CUDA design space: TVM parses its CUDA tensor intrinsics first (~15 s)
def test_tree_search_starts_from_legal_samples_when_the_gpu_sketches_are_illegal(cuda_matmul_context):
    """MetaSchedule's CUDA sketches, with the decisions they come with, mostly fail VerifyGPUCode; the tree
    starts from each sketch's legal fresh samples (on an H200 the tree search measured 0 trials before, as it
    drew samples only from sketches whose own decisions were legal)."""
    context, sketches = cuda_matmul_context
    postprocs = list(context.space_generator.postprocs)
    # The sketches' decisions are random draws, most of them illegal on a GPU; the test makes every one
    # illegal (a tile decision VerifyGPUCode rejects), so that it does not depend on the draw.
    spaces = [illegal_variant(sketch, context.mod, postprocs) for sketch in sketches]
    search = TreeSearch(lambda rng: None, SearchSettings(), seed=0)
    search._initialize_with_tune_context(context)
    search.pre_tuning(64, 8, spaces, None, None)
    assert len(search.root.children) == len(spaces)  # every sketch is in the tree, by itself or a sample
    assert len(search.generate_measure_candidates()) == 8


def illegal_variant(sketch, mod, postprocs) -> Schedule:
    """`sketch` with its first tile decision that fails the GPU postprocessors (itself if already illegal)."""
    trace = sketch.trace
    if replay(trace, mod, postprocs) is not None:
        sites = decision_sites(trace)
        trace = next(edited for site in sites if site.key.startswith("t") for value in site.legal
                     if replay(edited := apply_edits(trace, [site], {site.key: value}), mod, postprocs) is None)
    schedule = Schedule(mod)
    trace.apply_to_schedule(schedule, remove_postproc=True)
    return schedule


@pytest.mark.slow  # the CUDA design space: TVM parses its CUDA tensor intrinsics first (~15 s)
def test_float16_design_space_uses_tensor_cores():
    context = build_matmul_context(load_target("cuda-sm90"), 64, "float16")
    spaces = context.generate_design_space()
    assert spaces and all("meta_schedule.auto_tensorize" in str(s.trace) for s in spaces)
    assert any("wmma_sync_16x16x16_f16f16f16" in str(s.trace) for s in spaces)


@pytest.mark.slow  # the CUDA design space: TVM parses its CUDA tensor intrinsics first (~15 s)
def test_edited_gpu_candidate_compiles_with_nvcc(cuda_matmul_context):
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
    # Without a GPU, TVM keeps the CUDA source. Compile it as TVM does on a GPU machine, through its compile
    # callback: with nvcc, which load_target chose because cuda-bindings' NVRTC is not installed here.
    with context.target:
        fatbin = bytes(tvm.get_global_func("tvm_callback_cuda_compile")(source))
    assert fatbin[:4] == bytes.fromhex("50ed55ba")  # the fatbin magic number


def test_final_timing_device_follows_the_target(target):
    assert latency.device_of(target) == tvm.cpu()
    if tvm.cuda(0).exist:
        assert latency.device_of(load_target("cuda-sm90")) == tvm.cuda(0)
    else:
        with pytest.raises(UserError, match="no cuda device"):
            latency.device_of(load_target("cuda-sm90"))


@pytest.mark.skipif(tvm.cuda(0).exist, reason="checks the error of a machine without a GPU")
def test_cuda_tune_without_a_gpu_is_a_user_error_before_any_work(tmp_path):
    with pytest.raises(UserError, match="no cuda device"):
        run_tune(TuneConfig.of(workload="flux_conv", target="cuda-sm90", strategy="mcts", trials=8,
                               work_dir=tmp_path / "work"))
    assert not (tmp_path / "work").exists()


def test_latency_samples_take_inputs_on_the_device(target):
    work = workload.load("small_workload:make")
    device = latency.device_of(target)
    args = latency.device_inputs(work.inputs, device)
    assert all(arg.device == device for arg in args)
    samples, out = latency.latency_samples(compiler.untuned_executable(work, target), args, device, repeat=3)
    assert len(samples) == 3 and min(samples) > 0
    np.testing.assert_allclose(out, work.reference, rtol=1e-4, atol=1e-4)


@pytest.mark.slow  # the CUDA design space: TVM parses its CUDA tensor intrinsics first (~15 s)
def test_gpu_prompt_carries_gpu_facts(cuda_matmul_context):
    context, spaces = cuda_matmul_context
    sites = decision_sites(spaces[0].trace)
    system, user = prompts.build_prompt(sites, Node(trace=spaces[0].trace, key="root"), {}, None, ["m"],
                                        context.target, 2)
    assert "132 SMs" in system and "warp 32" in system and "49152 B shared memory" in system
    assert "65536 registers" in system
    assert "threadIdx" in user and "multiple of the warp size 32" in user


def test_gpu_facts_are_read_from_the_device():
    """A stand-in for a GPU (this machine has none) that answers TVM's device queries."""
    attributes = {9: 65536}
    device = SimpleNamespace(exist=True, multi_processor_count=114, warp_size=32, max_threads_per_block=1024,
                             max_shared_memory_per_block=49152, device_name="NVIDIA H100 PCIe", index=0,
                             dlpack_device_type=lambda: 2, _GetDeviceAttr=lambda kind, index, attr: attributes[attr])
    facts = gpu_facts(load_target("cuda-sm90"), device)
    assert facts == {"sms": 114, "warp": 32, "threads": 1024, "smem": 49152, "registers": 65536,
                     "source": "NVIDIA H100 PCIe"}


class _CpuEvent:
    """Stands in for torch.cuda.Event (this torch has no CUDA): wall-clock time between two records."""

    def __init__(self, enable_timing: bool):
        self.at = None

    def record(self):
        self.at = time.perf_counter()

    def elapsed_time(self, end) -> float:
        return (end.at - self.at) * 1e3


def test_torch_gpu_peer_fields(monkeypatch):
    """The GPU is stood in for by the CPU: torch.cuda's availability, events and synchronize, and
    torch.compile (inductor needs the GPU to compile CUDA kernels) are replaced; the module runs on the CPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "Event", _CpuEvent)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: None)
    module = torch.nn.Linear(64, 64)
    inputs = [np.ones((8, 64), dtype=np.float32)]

    monkeypatch.setattr(torch, "compile", lambda m: m)
    result = gpu_peers.torch_cuda_latencies(module, inputs, repeat=3, device="cpu")
    assert set(result) == {"torch_cuda_latency_s", "torch_compile_cuda_latency_s"}
    assert 0 < result["torch_cuda_latency_s"] < 0.1

    def fails(m):
        raise RuntimeError("inductor: no triton\nmore")

    monkeypatch.setattr(torch, "compile", fails)
    result = gpu_peers.torch_cuda_latencies(module, inputs, repeat=3, device="cpu")
    assert set(result) == {"torch_cuda_latency_s", "torch_compile_error"}
    assert result["torch_compile_error"] == "inductor: no triton"

    compiled = []  # the peer of an fp16 build runs in float16: the Linear would reject float32 inputs
    monkeypatch.setattr(torch, "compile", lambda m: compiled.append(m.weight.dtype) or m)
    result = gpu_peers.torch_cuda_latencies(module, inputs, repeat=3, device="cpu", half=True)
    assert set(result) == {"torch_cuda_latency_s", "torch_compile_cuda_latency_s"} and compiled == [torch.float16]
    assert module.weight.dtype == torch.float32  # the workload's module is untouched


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the answer of a torch without CUDA")
def test_torch_gpu_peer_without_cuda_says_so():
    assert set(gpu_peers.torch_cuda_latencies(torch.nn.Identity(), [np.ones(4, dtype=np.float32)])) == {"torch_cuda_error"}


def test_report_shows_gpu_peers():
    report = {"workload": "flux_conv", "strategy": "mcts", "trials": 64, "untuned_latency_s": 2e-3,
              "tuned_latency_s": 1e-4, "speedup": 20.0, "correct": True, "max_abs_error": 1e-6,
              "torch_cuda_latency_s": 2e-4, "torch_compile_error": "no triton", "wall_s": 60.0,
              "trials_measured_this_run": 64, "search_s": 50.0,
              **{k: 1.0 for k in ("llm_s", "cost_model_s", "build_s", "run_s", "other_s")}}
    report = TuneReport.read({**report, "workload_spec": "flux_conv", "target": "cuda", "tuned_samples_s": [1e-4],
                              "work_dir": "w"}, "test")
    console = Console(record=True, width=200)
    console.print(summary_table(report))
    text = console.export_text()
    assert re.search(r"torch cuda latency +│ +0\.200 ms", text) and re.search(r"torch compile error +│ +no triton", text)
    table = gpu_peer_markdown([report, report.model_copy(update={"strategy": "evolutionary",
                                                                  "torch_compile_cuda_latency_s": 5e-5})])
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()]
    assert rows[0][:3] == ["workload", "precision", "strategy"] and len(rows) == 4
    assert rows[2][1] == "fp32" and rows[2][6:10] == ["0.2000", "-", "2.00x", "-"] and rows[2][10].startswith("True")
    assert rows[3][6:10] == ["0.2000", "0.0500", "2.00x", "0.50x"] and rows[3][10].startswith("True")
