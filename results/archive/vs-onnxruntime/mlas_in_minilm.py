"""Would onnxruntime's MLAS, as the library path's kernel, close MiniLM's gap? Times tuned MiniLM against
onnxruntime in one process, with the three weight-matmul shapes on OpenBLAS (the library path) or on MLAS.

    python results/vs-onnxruntime/mlas_in_minilm.py /tmp/runs/minilm-blas openblas
    python results/vs-onnxruntime/mlas_in_minilm.py /tmp/runs/minilm-blas mlas

For `mlas` the library path's function is re-registered to run each weight matmul in a one-node onnxruntime
session holding that weight as a constant initializer (prepacked once, as onnxruntime serves MiniLM), keyed by
the weight tensor (kept alive, so its key is never reused). All sessions, the onnxruntime peer included, share
onnxruntime's global 2-thread pool: 36 sessions with a spinning pool each made MiniLM 20x slower.
"""

import sys
from pathlib import Path

import numpy as np
import onnxruntime
import tvm
from onnx import TensorProto, helper, numpy_helper

from litecoop.measure import latency, peers, timing
from litecoop.build import blas
from litecoop.bench.check import build_from_database

WEIGHT_SHAPES = [((128, 384), (384, 384)), ((128, 384), (384, 1536)), ((128, 1536), (1536, 384))]


def session_options():
    options = onnxruntime.SessionOptions()
    options.use_per_session_threads = False
    return options


def register_mlas() -> None:
    sessions = {}

    def session_for(weight):
        graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul",
                                  [helper.make_tensor_value_info("a", TensorProto.FLOAT, None)],
                                  [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)],
                                  [numpy_helper.from_array(weight, "b")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        return onnxruntime.InferenceSession(model.SerializeToString(), session_options(),
                                            providers=["CPUExecutionProvider"])

    @tvm.register_global_func(blas.MATMUL, override=True)
    def mlas_matmul(a, b, out):
        key = b.__chandle__()
        if key not in sessions:
            sessions[key] = (b, session_for(np.from_dlpack(b).copy()))
        session = sessions[key][1]
        lhs, result = np.from_dlpack(a), np.from_dlpack(out)
        binding = session.io_binding()
        binding.bind_input("a", "cpu", 0, np.float32, list(lhs.shape), lhs.ctypes.data)
        binding.bind_output("c", "cpu", 0, np.float32, list(result.shape), result.ctypes.data)
        session.run_with_iobinding(binding)


def main(db_dir: str, kernel: str) -> None:
    onnxruntime.capi._pybind_state.set_global_thread_pool_sizes(2, 1)
    if kernel == "mlas":
        register_mlas()
    work, executable = build_from_database("minilm", Path(db_dir), "host", 0, WEIGHT_SHAPES)
    device = tvm.cpu()
    tuned = latency.vm_sampler(executable, latency.device_inputs(work.inputs, device), device)[0]
    path = peers.export_onnx(work.torch_module, work.inputs, Path(db_dir) / "minilm.onnx")
    session = onnxruntime.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])
    feed = {arg.name: x for arg, x in zip(session.get_inputs(), work.inputs)}
    samplers = [tuned, peers.call_sampler(lambda: session.run(None, feed))]
    for _ in range(2):
        tuned_s, onnxruntime_s = (float(np.median(x)) for x in timing.interleave(samplers, 8))
        print(f"{kernel}: tuned {tuned_s * 1e3:.2f} ms, onnxruntime {onnxruntime_s * 1e3:.2f} ms, "
              f"tuned / onnxruntime {tuned_s / onnxruntime_s:.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
