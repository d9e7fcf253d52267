"""Re-time a task's best database record alone, as the search timed it and as a plain build.

    python results/vs-onnxruntime/rerun_best_record.py llama4_mlp /tmp/runs/llama4_mlp-10m-2t matmul2

The workload is fused as `litecoop tune` fuses it; the task's PrimFunc (by its name in the fused module) gets
the best schedule of the work dir's database. It is then built with `tvm.compile` and timed by its time
evaluator (random inputs of its shapes), and built by MetaSchedule's LocalBuilder and timed three times by its
LocalRunner with the evaluator settings of `litecoop.measure.builder_runner.TimedRunner` (the in-search measurement).
Prints milliseconds, to compare with the record's in-search mean.
"""

import re
import sys
from pathlib import Path

import numpy as np
import tvm
from tvm.s_tir.meta_schedule.arg_info import ArgInfo
from tvm.s_tir.meta_schedule.builder import BuilderInput, LocalBuilder
from tvm.s_tir.meta_schedule.runner import EvaluatorConfig, LocalRunner, RunnerInput

from litecoop import records, workload
from litecoop.build import compiler
from litecoop.targets import load_target


def main(name: str, work_dir: str, task: str) -> None:
    target = load_target("host")
    fused = compiler.fuse(workload.load(name).mod, target)
    database = records.open_database(Path(work_dir))
    task_mod = tvm.IRModule({"main": fused[task].with_attr("global_symbol", "main")})
    with target:
        schedule = database.query_schedule(task_mod, target=target, workload_name="main")
    (record,) = database.get_top_k(database.commit_workload(task_mod), 1)
    print(f"{name} {task}: best record's in-search run_secs (ms)", [round(float(s) * 1e3, 3) for s in record.run_secs])
    signature = re.sub(r"T\.int64\((\d+)\)", r"\1", schedule.mod["main"].script().split("T.func_attr")[0])
    shapes = [tuple(int(x) for x in dims.split(",") if x.strip())
              for dims in re.findall(r"T\.Buffer\(\(([\d, ]+)\)", signature)]
    device = tvm.cpu()
    args = [tvm.runtime.tensor(np.random.rand(*shape).astype("float32"), device) for shape in shapes]
    library = tvm.compile(schedule.mod, target=target)
    samples = library.mod.time_evaluator("main", device, number=10, repeat=20)(*args).results
    print(f"  {shapes}: tvm.compile + time evaluator, median {np.median(samples) * 1e3:.3f} ms, "
          f"min {min(samples) * 1e3:.3f} ms")
    (built,) = LocalBuilder(max_workers=1).build([BuilderInput(schedule.mod, target)])
    runner = LocalRunner(evaluator_config=EvaluatorConfig(number=3, repeat=3, min_repeat_ms=40,
                                                          enable_cpu_cache_flush=False))
    for _ in range(3):
        (future,) = runner.run([RunnerInput(built.artifact_path, "cpu", ArgInfo.from_prim_func(schedule.mod["main"]))])
        print("  LocalRunner run_secs (ms):", [round(float(s) * 1e3, 3) for s in future.result().run_secs])


if __name__ == "__main__":
    main(*sys.argv[1:4])
