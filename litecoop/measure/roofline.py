"""The machine's physical limits: peak FP32 FLOP/s (an FMA microbenchmark) and memory bandwidth.

The FMA kernel is C compiled by the system compiler for the host CPU (-O3 -march=native -fopenmp):
ten independent vector FMA chains per core (they fit the register file), so it runs at the FMA units'
throughput, not their latency. Bandwidth is a STREAM-style
copy of 256 MiB with numpy (bytes read + written per second).

Both are measured once per machine and thread count, when the machine is idle (a busy machine halves the peak:
measured 94 against 466 GFLOP/s here), and cached with the load they were measured under (`machine_limits`): a
measurement taken busy is taken again once the machine is idle; `litecoop roofline --remeasure` measures again.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from litecoop.errors import UserError

IDLE_LOAD = 0.5  # the 1-minute load average below which the machine counts as idle for a measurement

FMA_SOURCE = r"""
#include <omp.h>
#ifdef __AVX512F__
typedef float vec __attribute__((vector_size(64)));
#else
typedef float vec __attribute__((vector_size(32)));
#endif
#define LANES (sizeof(vec) / sizeof(float))
#define CHAINS 10
double fma_peak(long iters, int threads) {
    double start = omp_get_wtime();
    float sink = 0;
    #pragma omp parallel num_threads(threads) reduction(+:sink)
    {
        vec acc[CHAINS], b, c;
        for (unsigned j = 0; j < LANES; j++) { b[j] = 1.0f + j * 1e-7f; c[j] = 1e-7f; }
        for (int k = 0; k < CHAINS; k++) acc[k] = c * (float)k;
        for (long i = 0; i < iters; i++)
            for (int k = 0; k < CHAINS; k++) acc[k] = acc[k] * b + c;
        for (int k = 0; k < CHAINS; k++) for (unsigned j = 0; j < LANES; j++) sink += acc[k][j];
    }
    double seconds = omp_get_wtime() - start;
    return sink == 12345.0f ? -1 : (double)iters * CHAINS * LANES * 2 * threads / seconds;
}
"""


def peak_flops(threads: int | None = None, iters: int = 100_000_000) -> float:
    """Measured peak float32 FLOP/s on `threads` cores (default: all this process may use).
    Raises UserError if no C compiler is found."""
    threads = threads or len(os.sched_getaffinity(0))
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise UserError("no C compiler (cc/gcc) found for the FMA microbenchmark")
    with tempfile.TemporaryDirectory() as tmp:
        source, library = Path(tmp) / "fma.c", Path(tmp) / "fma.so"
        source.write_text(FMA_SOURCE)
        subprocess.run([compiler, "-O3", "-march=native", "-ffp-contract=fast", "-fopenmp", "-shared", "-fPIC", str(source), "-o",
                        str(library)], check=True, capture_output=True)
        kernel = ctypes.CDLL(str(library)).fma_peak
        kernel.restype, kernel.argtypes = ctypes.c_double, [ctypes.c_long, ctypes.c_int]
        kernel(iters // 10, threads)
        return max(kernel(iters, threads) for _ in range(3))


def memory_bandwidth(megabytes: int = 256) -> float:
    """Measured copy bandwidth in bytes/s (read + write), best of 5."""
    source = np.ones(megabytes * (1 << 20) // 4, dtype=np.float32)
    target = np.empty_like(source)
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(target, source)
        best = max(best, 2 * source.nbytes / (time.perf_counter() - start))
    return best


def bound_s(flops: float, bytes_moved: float, peak: float, bandwidth: float) -> float:
    """The roofline lower bound on latency (seconds): the slower of compute and memory traffic."""
    return max(flops / peak, bytes_moved / bandwidth)


def _cache_file() -> Path:
    return Path(os.environ.get("LITECOOP_CACHE", Path.home() / ".cache" / "litecoop")) / "roofline.json"


def _machine_key(threads: int) -> str:
    from litecoop.report.provenance import provenance

    return f"{provenance()['machine']} / {threads} threads"


def machine_limits(threads: int | None = None, remeasure: bool = False, idle_wait_s: float = 60) -> dict:
    """{"peak_flops": FLOP/s, "memory_bandwidth_Bps": bytes/s, "load": the load average when measured} of this
    machine on `threads` threads (default: every core this process may use), from the cache unless `remeasure`,
    absent, or measured on a busy machine (load average >= IDLE_LOAD) that is idle now. A fresh measurement waits
    up to `idle_wait_s` seconds for the machine to be idle. Raises UserError if no C compiler is found."""
    threads = threads or len(os.sched_getaffinity(0))
    path, key = _cache_file(), _machine_key(threads)
    cache = json.loads(path.read_text()) if path.is_file() else {}
    cached = cache.get(key)
    if cached and not remeasure and (cached["load"] < IDLE_LOAD or os.getloadavg()[0] >= IDLE_LOAD):
        return cached
    deadline = time.monotonic() + idle_wait_s
    while os.getloadavg()[0] >= IDLE_LOAD and time.monotonic() < deadline:
        time.sleep(5)
    load = os.getloadavg()[0]
    limits = {"peak_flops": peak_flops(threads), "memory_bandwidth_Bps": memory_bandwidth(), "load": load}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cache | {key: limits}, indent=1))
    return limits
