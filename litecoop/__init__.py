"""LiteCoOp: a TVM MetaSchedule autotuner whose Monte-Carlo tree search is expanded by a team of local LLMs.

    import litecoop
    fast = litecoop.tune(model, example_inputs, time_budget="10m")   # torch module, "m.onnx" or "zoo:NAME"
    y = fast(*inputs); fast.save("m.tuned"); fast = litecoop.load("m.tuned")
"""

import os

__version__ = "0.1.0"

# TVM's CPU thread pool sizes itself to half the hardware threads on x86 (it assumes two per core), so on a
# machine whose CPUs are all cores (this 2-vCPU VM) tuned kernels ran on one thread while onnxruntime and torch
# ran on two. Every core this process may use, in this process and the tuning workers it starts, unless the
# user set TVM_NUM_THREADS. It must be set before TVM's first parallel call (the pool reads it then).
os.environ.setdefault("TVM_NUM_THREADS", str(len(os.sched_getaffinity(0))))

from litecoop.api import load, tune  # noqa: E402 - after the thread setting, which TVM reads at import
from litecoop.artifact import Tuned  # noqa: E402

__all__ = ["tune", "load", "Tuned"]
