"""The Python face of LiteCoOp, in the spirit of Optuna's `create_study` and onnxruntime's `InferenceSession`:

    fast = litecoop.tune(model, example_inputs, time_budget="10m")   # torch module, "m.onnx", "zoo:bert_base"
    y = fast(*inputs)                                                 # NumPy or torch in, NumPy out
    fast.report; fast.save("m.tuned"); fast = litecoop.load("m.tuned")

The command line (`litecoop tune`) is a shell over `tune`.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from litecoop.artifact import ARTIFACT_DIR, Tuned
from litecoop.artifact import load as load_artifact
from litecoop.errors import UserError

def duration_s(text: str | float | int) -> float:
    """Seconds in a duration: a number of seconds, or text such as `90s`, `30m`, `1.5h`. Raises UserError for
    anything else."""
    if isinstance(text, (int, float)):
        return float(text)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh])\s*", str(text))
    if not match:
        raise UserError(f"--time-budget: expected a duration such as 90s, 30m or 1h, got '{text}'")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def tune(model, example_inputs=None, *, target: str = "host", time_budget: str | float | None = None,
         trials: int | None = None, strategy: str = "mcts", work_dir: str | Path | None = None, seed: int = 0,
         fresh: bool = False, resume: bool = False, measure_peers: bool = True, search: str = "default",
         models: str = "local-cpu", warm_start: str | Path | None = None, shapes: list | str | None = None,
         precision: str = "fp32", tolerance: float | None = None, console=None) -> Tuned:
    """Tune `model` for `target` and return it compiled and callable, with its report (`.report`, a TuneReport).

    `model`: a torch.nn.Module (with `example_inputs`, a sequence of tensors or arrays that fix the tuned shapes),
    a path to an `.onnx` file, or a workload name (`zoo:NAME`, a suite kernel, `minilm`, `module:function`).
    The search stops after `trials` measured trials or `time_budget` of search (seconds, or "30m"), whichever
    comes first; with neither, 64 trials. Then the tuned build is saved in `work_dir/tuned` and timed in a fresh
    process against the peers (onnxruntime, OpenVINO, torch.compile, torch) unless `measure_peers` is False.
    Records go to the user's store and seed later runs unless `fresh`; `resume` continues the records already in
    `work_dir`; `warm_start`, an earlier run's work dir, seeds the search with its records (of this or a similar
    shape). `search` and `models` name presets (or .toml paths). `precision`: "fp32", "bf16" (matmuls in
    bfloat16 on CPUs with AVX512-BF16), "int8" (matmuls quantized dynamically, AVX512-VNNI) or "fp16" (CUDA targets:
    matmuls and convolutions on tensor cores); the output must stay
    within `tolerance` x the reference's largest magnitude of the float32 reference (None: the precision's default, litecoop.build.precision.TOLERANCE).

    `shapes`: several input shape sets to tune for, one shape per input in each (e.g. `[[(1, 32), (1, 32)],
    [(1, 64), (1, 64)]]`, or the command line's "1x32,1x32;1x64,1x64"); the budget is shared equally among them,
    a call is dispatched by its inputs' shapes, and any other shape runs on an untuned build with symbolic
    dimensions where torch.export and TVM can build one (`tuning.shapes`). Needs a model from torch.
    Raises UserError for bad input."""
    from litecoop.tuning.config import TuneConfig
    from litecoop.tuning.run import run_tune
    from litecoop.workload import from_torch
    from litecoop.workload import load as load_workload

    if isinstance(model, (str, Path)):
        if example_inputs is not None:
            raise UserError("example_inputs are only for a torch module (a model file or name brings its own)")
        spec = str(model)
    elif hasattr(model, "forward"):
        if example_inputs is None:
            raise UserError("a torch module needs example_inputs (a sequence of tensors or arrays)")
        spec = type(model).__name__
    else:
        raise UserError(f"model: expected a torch module, an .onnx path or a workload name, got {type(model).__name__}")
    work_dir = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="litecoop-"))
    config = TuneConfig.of(workload=spec, work_dir=work_dir, target=target, strategy=strategy, trials=trials,
                           time_budget_s=duration_s(time_budget) if time_budget is not None else None, seed=seed,
                           fresh=fresh, resume=resume, measure_peers=measure_peers, search_preset=search,
                           models_preset=models, warm_start=warm_start, precision=precision, tolerance=tolerance)
    workload = load_workload(spec, seed) if isinstance(model, (str, Path)) else from_torch(spec, model, list(example_inputs))
    if shapes is None:
        reports = [run_tune(config, console, workload=workload)]
    else:
        from litecoop.tuning.shapes import run_tune_shapes
        from litecoop.workload.shapes import parse

        shape_sets = parse(shapes) if isinstance(shapes, str) else [[tuple(s) for s in group] for group in shapes]
        reports = run_tune_shapes(config, shape_sets, workload, console)
    tuned = load_artifact(work_dir / ARTIFACT_DIR)
    tuned.reports = reports
    return tuned


def load(path: str | Path) -> Tuned:
    """A tuned model saved by `Tuned.save` (or a run's `work_dir/tuned`), ready to call. Needs TVM's runtime and
    NumPy only. Raises UserError for a missing or corrupted artifact or a CPU it was not built for."""
    return load_artifact(path)
