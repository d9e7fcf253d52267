"""Shapes that vary: the input shapes a user lists (`--shapes`, `shapes=`), fresh inputs of those shapes, and one
Relax module whose varying dimensions are symbolic (torch.export's dynamic shapes), for the shapes not listed."""

from __future__ import annotations

import inspect
import re
import warnings

import numpy as np

from litecoop.errors import UserError

Shapes = list[tuple[int, ...]]  # one shape per input of the model


def parse(text: str) -> list[Shapes]:
    """`--shapes`: input shape sets separated by `;`, the inputs of one set by `,`, dimensions by `x`:
    "1x32,1x32;1x64,1x64" is two sets of two inputs. Raises UserError for anything else."""
    sets = []
    for part in text.split(";"):
        if not re.fullmatch(r"\s*\d+(x\d+)*(\s*,\s*\d+(x\d+)*)*\s*", part):
            raise UserError(f"--shapes: expected shapes such as 1x32,1x32;1x64,1x64, got '{part.strip()}'")
        sets.append([tuple(int(d) for d in shape.strip().split("x")) for shape in part.split(",")])
    return sets


def check(shape_sets: list[Shapes], examples: list[np.ndarray]) -> None:
    """Raise UserError unless every set has one shape per example input, of the example's rank, with positive
    dimensions, and no set is listed twice."""
    for shapes in shape_sets:
        if len(shapes) != len(examples):
            raise UserError(f"shapes {list(shapes)}: the model takes {len(examples)} inputs, not {len(shapes)}")
        for shape, example in zip(shapes, examples):
            if len(shape) != example.ndim or min(shape, default=1) < 1:
                raise UserError(f"shape {shape}: an input of rank {example.ndim} with positive dimensions expected "
                                f"(the example's is {example.shape})")
    if len({tuple(s) for s in shape_sets}) != len(shape_sets):
        raise UserError("shapes: a shape set is listed twice")


def inputs_at(examples: list[np.ndarray], shapes: Shapes, seed: int) -> list[np.ndarray]:
    """Fresh inputs of `shapes` drawn like the `examples` (numpy.random.default_rng(seed)): integers uniform between
    the example's smallest and largest value (token ids stay in the vocabulary the example uses, an all-ones mask
    stays all ones); floats normal with the example's mean and standard deviation."""
    rng = np.random.default_rng(seed)
    fresh = []
    for example, shape in zip(examples, shapes):
        if np.issubdtype(example.dtype, np.integer):
            fresh.append(rng.integers(example.min(), example.max() + 1, size=shape).astype(example.dtype))
        else:
            values = rng.standard_normal(shape) * float(example.std()) + float(example.mean())
            fresh.append(values.astype(example.dtype))
    return fresh


def varying_dims(shape_sets: list[Shapes]) -> list[set[int]]:
    """For each input, the axes whose size differs between the shape sets."""
    return [{axis for axis in range(len(first)) if len({shapes[i][axis] for shapes in shape_sets}) > 1}
            for i, first in enumerate(shape_sets[0])]


def symbolic_module(module, examples: list[np.ndarray], shape_sets: list[Shapes]):
    """A Relax IRModule of the torch `module` whose varying dimensions (`varying_dims`) are symbolic, through
    torch.export with `Dim.AUTO` (which finds that, e.g., the ids' and the mask's sequence axes are one) and TVM's
    importer. Raises UserError when either cannot take the module with those dimensions free."""
    import torch
    from tvm.relax.frontend.torch import from_exported_program

    free = iter({axis: torch.export.Dim.AUTO for axis in axes} or None for axes in varying_dims(shape_sets))
    tensors = tuple(torch.from_numpy(x) for x in examples)
    # torch.export matches dynamic_shapes to forward's parameters: `*tensors` is one parameter holding a tuple
    bound = inspect.signature(module.forward).bind(*tensors).arguments
    dynamic = {name: tuple(next(free) for _ in value) if isinstance(value, tuple) else next(free)
               for name, value in bound.items()}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            program = torch.export.export(module.eval(), tensors, dynamic_shapes=dynamic)
            mod = from_exported_program(program)
        except Exception as err:  # noqa: BLE001 - torch.export and the importer raise many kinds
            raise UserError(f"no build for any shape: {str(err).splitlines()[0][:200]}") from None
    ranges = {str(symbol): (int(bound.lower), _int_or(bound.upper, 2**31 - 1))
              for symbol, bound in program.range_constraints.items()}
    mod["main"] = _with_ranges(mod["main"], ranges)
    return mod


def _int_or(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError, AttributeError):  # torch's int_oo: no upper bound
        return default


def _with_ranges(function, ranges: dict[str, tuple[int, int]]):
    """`function` (Relax) with its symbolic shapes simplified under the value ranges torch.export proved for its
    symbolic variables (`ranges`: name -> (lowest, highest)). Without them, a slice of a position table
    (BERT's `position_ids[:, :seq]`, seq <= 512) keeps `min(seq, 512)` as its length, and TVM's build rejects the
    add of that to a tensor of length seq; under them it is seq, and the slice is known to stay in bounds."""
    import tvm
    import tvm.sym
    from tvm import relax
    from tvm.relax.expr_functor import PyExprMutator, mutator

    analyzer = tvm.sym.Analyzer()
    for var in relax.analysis.defined_symbolic_vars(function):
        if var.name in ranges:
            lowest, highest = ranges[var.name]
            analyzer.bind(var, tvm.ir.Range(lowest, highest + 1))

    @mutator
    class Simplify(PyExprMutator):
        def visit_shape_expr_(self, shape):
            return relax.ShapeExpr([analyzer.simplify(value) for value in shape.values])

        def visit_call_(self, call):
            call = super().visit_call_(call)
            if isinstance(call.op, tvm.ir.Op) and call.op.name == "relax.strided_slice" and _in_bounds(call):
                return relax.Call(call.op, call.args, tvm.ir.make_node("relax.attrs.StridedSliceAttrs",
                                                                       assume_inbound=True))
            return call

    def _in_bounds(call) -> bool:
        data, axes, begins, ends = call.args[:4]
        shape = (data.value.shape if hasattr(data, "value") and hasattr(data.value, "shape")  # a constant
                 else getattr(getattr(data, "struct_info", None), "shape", None))
        shape = getattr(shape, "values", shape)
        if call.attrs.assume_inbound or shape is None or not all(
                isinstance(part, relax.Tuple) and all(hasattr(x, "value") for x in part) for part in (axes, begins, ends)):
            return False
        return all(analyzer.can_prove(0 <= begin.value) and analyzer.can_prove(end.value <= shape[axis.value])
                   for axis, begin, end in zip(axes, begins, ends))

    return Simplify().visit_expr(function)
