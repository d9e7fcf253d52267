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
            return from_exported_program(program)
        except Exception as err:  # noqa: BLE001 - torch.export and the importer raise many kinds
            raise UserError(f"no build for any shape: {str(err).splitlines()[0][:200]}") from None
