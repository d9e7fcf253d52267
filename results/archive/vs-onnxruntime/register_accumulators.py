"""Where a CPU GEMM's accumulators live in TVM 0.27, measured: a hand-written TIR micro-kernel
C[M,N] = A[M,K] @ B[K,N] (B prepacked as Bp[N//NB, K, NB]; an MRxNB accumulator tile held in two buffers, its
left and right column halves; K innermost-outer; rows unrolled, columns vectorized) whose accumulator buffers
are declared in scope "local" or "global".

TVM's LowerTVMBuiltin keeps a buffer on the stack only if its scope is "global" and it is under 1024 bytes
(runtime::kMaxStackAlloca); every other buffer, "local" included, is allocated with TVMBackendAllocWorkspace,
so LLVM cannot keep the tile in registers and stores it on every k step. Prints GFLOP/s on MiniLM's weight
shapes (2 threads: before session 12 TVM ran one), with NumPy's OpenBLAS in the same run.

    python results/vs-onnxruntime/register_accumulators.py    # ~1 minute
"""
import time

import numpy as np
import tvm
from tvm.script import tirx as T

import litecoop  # noqa: F401 - TVM's thread pool on every core (TVM_NUM_THREADS), as in the tuned builds

TARGET = tvm.target.Target({"kind": "llvm", "mcpu": tvm.target.codegen.llvm_get_system_cpu(), "num-cores": 2})


def micro_kernel(M, N, K, MR, NB, scope):
    """The MRxNB accumulator tile as two MRx(NB/2) buffers (left and right column halves) in `scope`."""
    H = NB // 2

    @T.prim_func
    def gemm(A: T.Buffer((M, K), "float32"), Bp: T.Buffer((N // NB, K, NB), "float32"),
             C: T.Buffer((M, N), "float32")):
        T.func_attr({"global_symbol": "main", "tir.noalias": True})
        for nb in T.parallel(N // NB):
            for mb in range(M // MR):
                left = T.alloc_buffer((MR, H), "float32", scope=scope)
                right = T.alloc_buffer((MR, H), "float32", scope=scope)
                for i in T.unroll(MR):
                    for j in T.vectorized(H):
                        left[i, j] = T.float32(0)
                        right[i, j] = T.float32(0)
                for k in range(K):
                    for i in T.unroll(MR):
                        for j in T.vectorized(H):
                            left[i, j] = left[i, j] + A[mb * MR + i, k] * Bp[nb, k, j]
                        for j in T.vectorized(H):
                            right[i, j] = right[i, j] + A[mb * MR + i, k] * Bp[nb, k, H + j]
                for i in T.unroll(MR):
                    for j in T.vectorized(H):
                        C[mb * MR + i, nb * NB + j] = left[i, j]
                        C[mb * MR + i, nb * NB + H + j] = right[i, j]
    return gemm


def gflops(M, N, K, MR, NB, scope):
    lib = tvm.compile(tvm.IRModule({"main": micro_kernel(M, N, K, MR, NB, scope)}), target=TARGET)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((M, K), dtype=np.float32), rng.standard_normal((K, N), dtype=np.float32)
    bp = np.ascontiguousarray(b.reshape(K, N // NB, NB).transpose(1, 0, 2))
    dev = tvm.cpu()
    ta, tb, tc = (tvm.runtime.tensor(x, dev) for x in (a, bp, np.zeros((M, N), np.float32)))
    lib["main"](ta, tb, tc)
    assert np.abs(tc.numpy() - a @ b).max() < 1e-2
    on_heap = "TVMBackendAllocWorkspace, align" in lib.mod.inspect_source("ll")
    seconds = np.median(lib.mod.time_evaluator("main", dev, number=50, repeat=10)(ta, tb, tc).results)
    return 2 * M * N * K / seconds / 1e9, on_heap


def openblas_gflops(M, N, K):
    a, b, c = np.random.rand(M, K).astype("f4"), np.random.rand(K, N).astype("f4"), np.empty((M, N), "f4")
    samples = []
    for _ in range(300):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        samples.append(time.perf_counter() - start)
    return 2 * M * N * K / np.median(samples) / 1e9


if __name__ == "__main__":
    for M, N, K in [(128, 384, 384), (128, 1536, 384), (128, 384, 1536)]:
        print(f"{M}x{K} @ {K}x{N}: OpenBLAS {openblas_gflops(M, N, K):.0f} GFLOP/s")
        for MR, NB in [(4, 32), (8, 16), (8, 32), (8, 64)]:
            for scope in ("local", "global"):
                rate, on_heap = gflops(M, N, K, MR, NB, scope)
                print(f"  {MR}x{NB} tile as two {MR}x{NB // 2} buffers ({MR * NB * 2} B each), scope {scope:6}: {rate:5.0f} GFLOP/s, "
                      f"accumulators {'on the heap' if on_heap else 'on the stack'}", flush=True)
