"""What bounds MiniLM's weight matmuls: GFLOP/s of each matmul library on MiniLM's three weight shapes, 2 threads.

    python results/vs-onnxruntime/gemm_libraries.py

OpenBLAS (NumPy's, the library path's kernel), onnxruntime's MLAS with the weight as a constant initializer
(prepacked once, as onnxruntime serves MiniLM) and as a run-time input (packed on every call), and torch.
Each: median of 7 series of 200 calls, same output buffer, 2 threads.
"""

import time

import numpy as np
import onnxruntime
import torch
from onnx import TensorProto, helper, numpy_helper

SHAPES = [(128, 384, 384), (128, 384, 1536), (128, 1536, 384)]


def seconds_per_call(call, calls: int = 200) -> float:
    for _ in range(20):
        call()
    series = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        series.append((time.perf_counter() - start) / calls)
    return float(np.median(series))


def mlas_call(a, b, c, weight_as_initializer: bool):
    (m, k), n = a.shape, b.shape[1]
    inputs = [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])]
    initializers = [numpy_helper.from_array(b, "b")] if weight_as_initializer else []
    if not weight_as_initializer:
        inputs.append(helper.make_tensor_value_info("b", TensorProto.FLOAT, [k, n]))
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul", inputs,
                              [helper.make_tensor_value_info("c", TensorProto.FLOAT, [m, n])], initializers)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    binding = session.io_binding()
    binding.bind_cpu_input("a", a)
    if not weight_as_initializer:
        binding.bind_cpu_input("b", b)
    binding.bind_output("c", "cpu", 0, np.float32, [m, n], c.ctypes.data)
    return lambda: session.run_with_iobinding(binding)


def main() -> None:
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    for m, k, n in SHAPES:
        a, b = rng.random((m, k), np.float32), rng.random((k, n), np.float32)
        c = np.empty((m, n), np.float32)
        calls = {"openblas (numpy)": lambda: np.matmul(a, b, out=c),
                 "mlas, weight prepacked": mlas_call(a, b, c, True),
                 "mlas, weight as input": mlas_call(a, b, c, False),
                 "torch": lambda ta=torch.from_numpy(a), tb=torch.from_numpy(b), tc=torch.from_numpy(c):
                     torch.matmul(ta, tb, out=tc)}
        rates = {name: 2 * m * k * n / seconds_per_call(call) / 1e9 for name, call in calls.items()}
        print(f"{m}x{k} @ {k}x{n}:", ", ".join(f"{name} {rate:.0f} GFLOP/s" for name, rate in rates.items()))


if __name__ == "__main__":
    main()
