"""`--precision`: the CPU check on stated flag sets; on a CPU with AVX512-BF16 (AVX512-VNNI) a real bfloat16 (int8)
build, its matmuls tensorized with vdpbf16ps (vpdpbusd), its output within the precision's tolerance of torch's
float32 and not within float32's; and the refusal of a build whose error exceeds the user's tolerance. Those tests
skip on a CPU without the feature (they need its instructions to run). fp16 is for CUDA targets with tensor cores:
without a GPU, its design space is checked and its arithmetic computed on this CPU by LLVM."""

import numpy as np
import pytest
import torch
import tvm
from conftest import run_cli

from litecoop.artifact import host_cpu_flags
from litecoop.build.precision import TOLERANCE, at_precision, check_supported
from litecoop.errors import UserError

needs_bf16 = pytest.mark.skipif("avx512_bf16" not in host_cpu_flags(), reason="this CPU lacks AVX512-BF16")
needs_vnni = pytest.mark.skipif("avx512_vnni" not in host_cpu_flags(), reason="this CPU lacks AVX512-VNNI")

AVX2_ONLY = {"avx", "avx2", "fma", "sse4_2"}  # e.g. AMD Zen 3, Intel Haswell to Comet Lake
AVX512_VNNI = AVX2_ONLY | {"avx512f", "avx512bw", "avx512vl", "avx512_vnni"}  # e.g. Intel Cascade Lake, Ice Lake
AVX512_BF16 = AVX512_VNNI | {"avx512_bf16"}  # e.g. AMD Zen 4, Intel Cooper Lake


def test_a_cpu_without_the_feature_is_refused_in_one_line():
    for precision, flag, without, with_it in (("bf16", "avx512_bf16", AVX512_VNNI, AVX512_BF16),
                                              ("int8", "avx512_vnni", AVX2_ONLY, AVX512_VNNI)):
        with pytest.raises(UserError) as refused:
            check_supported(precision, without)
        assert flag in str(refused.value) and "\n" not in str(refused.value)
        check_supported(precision, with_it)
    check_supported("fp32", AVX2_ONLY)
    with pytest.raises(UserError):
        check_supported("int4", AVX512_BF16)


def test_fp16_needs_a_cuda_target_with_tensor_cores():
    from litecoop.build.precision import target_features
    from litecoop.targets import load_target

    assert target_features(load_target("cuda-sm90")) == {"tensor_cores"}
    assert target_features(tvm.target.Target({"kind": "cuda", "arch": "sm_61"})) == set()  # Pascal: no tensor cores
    check_supported("fp16", target_features(load_target("cuda-sm90")))
    for features in (AVX512_BF16, target_features(load_target("host"))):
        with pytest.raises(UserError) as refused:
            check_supported("fp16", features)
        assert "CUDA target with tensor cores" in str(refused.value) and "\n" not in str(refused.value)


def _mlp():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.GELU(), torch.nn.Linear(512, 256)).eval()
    return model, [np.random.default_rng(0).standard_normal((1, 32, 256)).astype(np.float32)]


@pytest.mark.slow  # builds a model and a tensorized schedule
@pytest.mark.parametrize("precision, kernel, intrinsic, instruction", [
    pytest.param("bf16", "matmul_bf16", "litecoop_dot_16x2_bf16", "vdpbf16ps", marks=needs_bf16),
    pytest.param("int8", "matmul_int8", "litecoop_dot_16x4_vnni", "vpdpbusd", marks=needs_vnni)])
def test_a_reduced_precision_build_computes_its_matmuls_with_the_instruction_within_its_tolerance(
        precision, kernel, intrinsic, instruction):
    from tvm import relax

    from litecoop.build.compiler import extract_tasks
    from litecoop.build.precision import design_space
    from litecoop.search.space import fresh_sample
    from litecoop.targets import load_target
    from litecoop.workload import from_torch

    model, inputs = _mlp()
    target = load_target("host")
    work = at_precision(from_torch("mlp", model, inputs), precision, target)
    assert work.precision == precision and work.tolerance == TOLERANCE[precision]
    tasks = [t for t in extract_tasks(work.mod, target) if kernel in t.task_name]
    assert len(tasks) == 2
    # one sample of the design space for the first matmul, built: the intrinsic is in its code
    from tvm.s_tir import meta_schedule as ms

    context = ms.TuneContext(mod=tasks[0].dispatched[0], target=target, space_generator=design_space(precision),
                             task_name=tasks[0].task_name)
    sketch = next(s for s in context.generate_design_space() if intrinsic in str(s.trace))
    schedules = (fresh_sample(sketch.trace, context.mod, list(context.space_generator.postprocs), seed)
                 for seed in range(20))
    built = tvm.compile(next(s for s in schedules if s is not None).mod, target=target)
    assert instruction in built.mod.inspect_source("asm")
    # the whole model, untuned: the rounding shows in its output, within the precision's tolerance
    vm = relax.VirtualMachine(tvm.compile(work.mod, target=target), tvm.cpu())
    output = vm["main"](*[tvm.runtime.tensor(x) for x in inputs])[0].numpy()
    error = work.max_abs_error(output)
    assert work.is_correct(error)
    assert error > TOLERANCE["fp32"] * max(1.0, float(np.abs(work.reference).max()))  # not float32 arithmetic


@pytest.mark.slow  # TVM parses its CUDA tensor intrinsics (~15 s) and builds the kernel for this CPU
def test_an_fp16_convolution_is_tiled_around_tensor_cores_and_its_rounding_stays_within_its_tolerance():
    """No GPU here: the design space is MetaSchedule's for sm_90, and this CPU (LLVM) computes the fp16 build's
    arithmetic, float16 operands and float32 sums, as the GPU's tensor cores would."""
    from tvm import relax

    from litecoop.build.compiler import extract_tasks
    from litecoop.build.intrinsics import import_tensor_intrinsics
    from litecoop.build.precision import design_space
    from litecoop.targets import load_target
    from litecoop.workload import load
    from tvm.s_tir import meta_schedule as ms

    target = load_target("cuda-sm90")
    work = at_precision(load("flux_conv"), "fp16", target)
    assert work.precision == "fp16" and work.tolerance == TOLERANCE["fp16"]
    task = next(t for t in extract_tasks(work.mod, target) if "conv2d" in t.task_name)
    kernel = task.dispatched[0]["main"]
    assert [str(p.dtype) for p in kernel.params] == ["float16", "float16", "float32"]  # operands, output
    import_tensor_intrinsics(target)
    context = ms.TuneContext(mod=task.dispatched[0], target=target, space_generator=design_space("fp16"))
    spaces = context.generate_design_space()
    assert spaces and all("wmma_sync_16x16x16_f16f16f32" in str(s.trace) for s in spaces)
    vm = relax.VirtualMachine(tvm.compile(work.mod, target="llvm"), tvm.cpu())
    output = vm["main"](*[tvm.runtime.tensor(x) for x in work.inputs])[0].numpy()
    assert output.dtype == np.float32
    error = work.max_abs_error(output)
    assert work.is_correct(error)
    assert error > TOLERANCE["fp32"] * max(1.0, float(np.abs(work.reference).max()))  # not float32 arithmetic


@pytest.mark.slow  # a real tune
@needs_bf16
def test_a_bf16_build_beyond_the_users_tolerance_is_refused_in_one_line(tmp_path):
    result = run_cli("tune", "--workload", "small_workload:make_linear", "--precision", "bf16", "--tolerance",
                     "1e-7", "--trials", "2", "--search", "smoke", "--no-peers", "--fresh",
                     "--work-dir", str(tmp_path / "w"))
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "refused" in last and "tolerance" in last and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "w" / "tuned").exists()
    assert (tmp_path / "w" / "database_tuning_record.json").read_text().strip()  # the records are kept


def test_the_host_target_offers_every_feature_this_cpu_lists():
    """LLVM named this session's Sapphire Rapids Xeon (avx512_bf16 in /proc/cpuinfo) `rocketlake`, which has no
    bfloat16: the host target adds what the CPU lists and LLVM's name lacks, so --precision bf16 is not refused."""
    from litecoop.artifact import CPU_FLAGS, cpu_flags_of_target, host_cpu_flags
    from litecoop.targets import load_target

    listed = {flag for flag in CPU_FLAGS if flag in host_cpu_flags()}
    assert listed <= set(cpu_flags_of_target(load_target("host")))
