"""Latency of a compiled Relax VM executable on this machine, in seconds, by TVM's VM time evaluator: the untuned
baseline of a tune and GPU builds. The final comparison of CPU builds with their peers is `measure.final`'s."""

from __future__ import annotations

import time

import numpy as np
import tvm
from tvm import relax

from litecoop.errors import UserError


def device_of(target):
    """The device of this machine that runs `target`'s code: `tvm.cpu()` for llvm, `tvm.cuda(0)` for cuda
    (device 0 of the target's kind in general). Final timings and correctness checks run there, also for an
    RPC target, whose trials alone run on the servers. Raises UserError when this machine has no such device."""
    kind = target.kind.name
    try:
        device = tvm.cpu() if kind == "llvm" else tvm.device(kind, 0)
    except ValueError:
        raise UserError(f"a {kind} target has no device to run on") from None
    if not device.exist:
        raise UserError(f"a {kind} target is finally timed on this machine, which has no {kind} device")
    return device


def device_inputs(inputs: list[np.ndarray], device) -> list:
    """The inputs copied to `device`, once: every timing of a workload on it takes these."""
    return [tvm.runtime.tensor(x, device) for x in inputs]


def run_vm(executable, args: list, device):
    """Run `main` once on `device` with `args` (tensors on it); returns (the first output as numpy, the VM)."""
    vm = relax.VirtualMachine(executable, device)
    out = vm["main"](*args)
    while not hasattr(out, "numpy"):
        out = out[0]
    return out.numpy(), vm


def latency_samples(executable, args: list, device, repeat: int = 10) -> tuple[list[float], np.ndarray]:
    """`repeat` timings in seconds of one call of `main` on `device` with `args` (`device_inputs`), each the mean
    of enough calls to last ~50 ms, by TVM's VM time evaluator; a build whose one call takes over a second (an
    untuned model: BERT-base's takes ~20 s) is timed once. Also returns the output (first tensor). The final
    comparison with the peers is `measure.final`'s, in a fresh process."""
    out, vm = run_vm(executable, args, device)
    start = time.perf_counter()
    vm["main"](*args)
    device.sync()
    once = time.perf_counter() - start
    if once > 1.0:
        return [once], out
    number = max(1, int(0.05 / max(once, 1e-6)))
    timer = vm.time_evaluator("main", device, number=number, repeat=repeat if once < 0.5 else min(repeat, 3))
    return [float(t) for t in timer(*args).results], out
