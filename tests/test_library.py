"""The library path: matmuls sent to OpenBLAS through a packed function give the same results (real TVM builds),
only float32 static matrices are sent, and the tasks the library path leaves are tuned with the others."""

import numpy as np
import tvm
from tvm import relax

from litecoop import library, tuner
from litecoop.targets import load_target


def _module(a_shape, b_shape, dtype="float32"):
    """main(a) = relu(a @ b + 1) with `b` a constant, as a Relax IRModule; and the constant."""
    rng = np.random.default_rng(0)
    weight = rng.standard_normal(b_shape).astype(dtype)
    builder = relax.BlockBuilder()
    a = relax.Var("a", relax.TensorType(a_shape, dtype))
    with builder.function("main", [a]):
        with builder.dataflow():
            product = builder.emit(relax.op.matmul(a, relax.const(weight)))
            biased = builder.emit(relax.op.add(product, relax.const(np.ones((), dtype))))
            out = builder.emit_output(relax.op.nn.relu(biased))
        builder.emit_func_output(out)
    return builder.get(), weight


def _run(mod, *inputs):
    vm = relax.VirtualMachine(tvm.compile(mod, target=load_target("host")), tvm.cpu())
    return vm["main"](*[tvm.runtime.tensor(x) for x in inputs]).numpy()


def test_matmuls_on_the_library_path_compute_the_same_result():
    rng = np.random.default_rng(1)
    for a_shape, b_shape in [((64, 128), (128, 96)), ((4, 32, 16), (4, 16, 24)), ((4, 32, 16), (16, 24))]:
        mod, weight = _module(a_shape, b_shape)
        signatures = library.matmul_signatures(mod)
        assert signatures == {(a_shape, b_shape): 1}
        dispatched = library.dispatch(mod, signatures)
        assert library.matmul_signatures(dispatched) == {}
        assert library.MATMUL in dispatched["main"].script()
        a = rng.standard_normal(a_shape).astype("float32")
        np.testing.assert_allclose(_run(dispatched, a), np.maximum(a @ weight + 1, 0), rtol=1e-5, atol=1e-4)


def test_only_float32_matrices_take_the_library_path():
    assert library.matmul_signatures(_module((8, 16), (16, 4), "int32")[0]) == {}
    assert library.matmul_signatures(_module((16,), (16, 4))[0]) == {}
    mod = _module((8, 16), (16, 4))[0]
    assert library.dispatch(mod, [((1, 2), (2, 3))])["main"].script() == mod["main"].script()
    assert library.flops(((3, 8, 16), (16, 4))) == 2 * 3 * 8 * 16 * 4


def test_the_epilogues_left_by_the_library_path_are_tasks_too():
    """relu(a @ W + 1) fuses into one kernel; with the matmul on the library path the bias and ReLU are a kernel
    of their own, which is tuned with the others (after them) so that the build can compare tuned with tuned."""
    target = load_target("host")
    mod = _module((64, 128), (128, 96))[0]
    tasks, own = tuner.extract_tasks(mod, target)
    assert own == 1 and len(tasks) == 2
    assert "matmul" in tasks[0].task_name and "matmul" not in tasks[1].task_name
