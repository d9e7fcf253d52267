"""`--precision`: the CPU check on stated flag sets, and on a CPU with AVX512-BF16 a real bfloat16 build (the
matmuls tensorized with vdpbf16ps, its output within the bf16 tolerance of torch's float32 and not within float32's)
and the refusal of a build whose error exceeds the user's tolerance. The bf16 tests skip on a CPU without the
feature (they need its instructions to run)."""

import numpy as np
import pytest
import torch
import tvm
from conftest import run_litecoop

from litecoop.artifact import host_cpu_flags
from litecoop.build.precision import TOLERANCE, at_precision, check_supported
from litecoop.errors import UserError

needs_bf16 = pytest.mark.skipif("avx512_bf16" not in host_cpu_flags(), reason="this CPU lacks AVX512-BF16")

AVX2_ONLY = {"avx", "avx2", "fma", "sse4_2"}  # e.g. AMD Zen 3, Intel Haswell to Comet Lake
AVX512_BF16 = AVX2_ONLY | {"avx512f", "avx512bw", "avx512vl", "avx512_bf16"}  # e.g. AMD Zen 4, Intel Cooper Lake


def test_a_cpu_without_the_feature_is_refused_in_one_line():
    with pytest.raises(UserError) as refused:
        check_supported("bf16", AVX2_ONLY)
    assert "avx512_bf16" in str(refused.value) and "\n" not in str(refused.value)
    check_supported("bf16", AVX512_BF16)
    check_supported("fp32", AVX2_ONLY)
    with pytest.raises(UserError):
        check_supported("int8", AVX512_BF16)


def _mlp():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.GELU(), torch.nn.Linear(512, 256)).eval()
    return model, [np.random.default_rng(0).standard_normal((1, 32, 256)).astype(np.float32)]


@pytest.mark.slow  # builds a model and a tensorized schedule
@needs_bf16
def test_a_bf16_build_computes_its_matmuls_with_vdpbf16ps_within_the_bf16_tolerance():
    from tvm import relax

    from litecoop.build.bf16 import design_space
    from litecoop.build.compiler import extract_tasks
    from litecoop.search.space import fresh_sample
    from litecoop.targets import load_target
    from litecoop.workload import from_torch

    model, inputs = _mlp()
    target = load_target("host")
    work = at_precision(from_torch("mlp", model, inputs), "bf16", target)
    assert work.precision == "bf16" and work.tolerance == TOLERANCE["bf16"]
    tasks = [t for t in extract_tasks(work.mod, target) if "matmul_bf16" in t.task_name]
    assert len(tasks) == 2
    # one sample of the bf16 design space for the first matmul, built: the intrinsic is in its code
    from tvm.s_tir import meta_schedule as ms

    context = ms.TuneContext(mod=tasks[0].dispatched[0], target=target, space_generator=design_space(),
                             task_name=tasks[0].task_name)
    sketch = next(s for s in context.generate_design_space() if "litecoop_dot_16x2_bf16" in str(s.trace))
    schedules = (fresh_sample(sketch.trace, context.mod, list(context.space_generator.postprocs), seed)
                 for seed in range(20))
    built = tvm.compile(next(s for s in schedules if s is not None).mod, target=target)
    assert "vdpbf16ps" in built.mod.inspect_source("asm")
    # the whole model, untuned: bf16 rounding shows in its output, within the bf16 tolerance
    vm = relax.VirtualMachine(tvm.compile(work.mod, target=target), tvm.cpu())
    output = vm["main"](*[tvm.runtime.tensor(x) for x in inputs])[0].numpy()
    error = work.max_abs_error(output)
    assert work.is_correct(error)
    assert error > TOLERANCE["fp32"] * max(1.0, float(np.abs(work.reference).max()))  # not float32 arithmetic


@pytest.mark.slow  # a real tune
@needs_bf16
def test_a_bf16_build_beyond_the_users_tolerance_is_refused_in_one_line(tmp_path):
    result = run_litecoop("tune", "--workload", "small_workload:make_linear", "--precision", "bf16", "--tolerance",
                          "1e-7", "--trials", "2", "--search", "smoke", "--no-peers", "--fresh",
                          "--work-dir", str(tmp_path / "w"))
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "refused" in last and "tolerance" in last and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "w" / "tuned").exists()
    assert (tmp_path / "w" / "database_tuning_record.json").read_text().strip()  # the records are kept
