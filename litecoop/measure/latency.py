"""Latency of a compiled Relax VM executable on this machine, in seconds: TVM's VM time evaluator, each sample
the mean of enough calls to last ~50 ms, alone or in alternation with other builds (`timing.interleave`).
`litecoop tune`'s final timing, `check` and `bench` time builds with these."""

from __future__ import annotations

import time

import numpy as np
import tvm
from tvm import relax

from litecoop.measure import timing
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


def _timer(executable, args: list, device, repeat: int):
    """A VM time evaluator of `main` on `device` whose every result is the mean of enough calls to last ~50 ms
    (`repeat` results; 3 when one call takes over 0.5 s); returns (timer, first output)."""
    out, vm = run_vm(executable, args, device)
    start = time.perf_counter()
    vm["main"](*args)
    device.sync()
    once = time.perf_counter() - start
    number = max(1, int(0.05 / max(once, 1e-6)))
    timer = vm.time_evaluator("main", device, number=number, repeat=repeat if once < 0.5 else min(repeat, 3))
    return timer, out


def latency_samples(executable, args: list, device, repeat: int = 10) -> tuple[list[float], np.ndarray]:
    """`repeat` timings in seconds of one call of `main` on `device` with `args` (`device_inputs`), and the
    output (first tensor)."""
    timer, out = _timer(executable, args, device, repeat)
    return [float(t) for t in timer(*args).results], out


def vm_sampler(executable, args: list, device):
    """(a sampler returning one latency sample of `main` on `device` in seconds, TVM's time evaluator over
    ~50 ms of calls; the first output), for `timing.interleave`. `args` come from `device_inputs`."""
    timer, out = _timer(executable, args, device, 1)
    return (lambda: float(timer(*args).results[0])), out


def interleaved_latency_samples(executables: list, args: list, device,
                                repeat: int = 10) -> tuple[list[list[float]], list[np.ndarray]]:
    """Timings in seconds of each executable's `main` on `device` with `args` (`device_inputs`), taken in
    alternation (A B A B ...) so that machine drift hits all alike: `repeat` samples per executable, and each
    one's first output."""
    samplers = [vm_sampler(executable, args, device) for executable in executables]
    return timing.interleave([sampler for sampler, _ in samplers], repeat), [out for _, out in samplers]
