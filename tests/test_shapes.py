"""Shapes that vary: `--shapes` parsing, fresh inputs of other shapes, an artifact that dispatches a call by its
inputs' shapes to the build for them or to a build with symbolic dimensions, and a real tune at two shapes.
Real torch modules, real TVM builds, outputs compared with torch's."""

import numpy as np
import pytest
import torch

import litecoop
from litecoop import artifact
from litecoop.errors import UserError
from litecoop.targets import load_target
from litecoop.tuning.shapes import _symbolic_build
from litecoop.workload import from_torch, shapes


def encoder_layer():
    """A small transformer encoder layer (sequence axis free) and an example input (1, 16, 32)."""
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(32, 2, 64, batch_first=True, dropout=0.0).eval()
    return layer, [np.random.default_rng(0).standard_normal((1, 16, 32), dtype=np.float32)]


def torch_output(module, inputs):
    with torch.no_grad():
        return module(*(torch.from_numpy(x) for x in inputs)).numpy()


def test_shapes_parse_and_bad_ones_are_one_line_errors():
    assert shapes.parse("1x32,1x32;1x64,1x64") == [[(1, 32), (1, 32)], [(1, 64), (1, 64)]]
    assert shapes.parse("8") == [[(8,)]]
    for text in ("1x32,", "1xx2", "a", "1x32;;1x64"):
        with pytest.raises(UserError, match="--shapes"):
            shapes.parse(text)
    example = [np.zeros((1, 16), np.int64)]
    for bad, message in (([[(1, 8), (1, 8)]], "takes 1 inputs"), ([[(1, 8, 2)]], "rank 2"), ([[(1, 0)]], "positive"),
                         ([[(1, 8)], [(1, 8)]], "twice")):
        with pytest.raises(UserError, match=message):
            shapes.check(bad, example)


def test_inputs_of_other_shapes_are_drawn_like_the_examples():
    ids = np.array([[5, 9, 7, 6]], np.int64)
    mask = np.ones((1, 4), np.int64)
    floats = np.random.default_rng(1).standard_normal((2, 1000)).astype(np.float32) * 3 + 2
    new_ids, new_mask, new_floats = shapes.inputs_at([ids, mask, floats], [(1, 64), (1, 64), (2, 3000)], seed=0)
    assert new_ids.shape == (1, 64) and new_ids.dtype == np.int64 and 5 <= new_ids.min() and new_ids.max() <= 9
    assert len(set(new_ids.ravel())) > 1 and (new_mask == 1).all() and new_floats.dtype == np.float32
    assert abs(new_floats.mean() - 2) < 0.3 and abs(new_floats.std() - 3) < 0.3


@pytest.mark.slow  # three real builds
def test_an_artifact_dispatches_each_shape_to_its_build_and_any_other_to_the_symbolic_one(tmp_path):
    import tvm

    module, example = encoder_layer()
    target = load_target("host")
    listed = [[(1, 16, 32)], [(1, 24, 32)]]
    parts = []
    for i, shape_set in enumerate(listed):
        inputs = shapes.inputs_at(example, shape_set, seed=i)
        work = from_torch("layer", module, inputs)
        parts.append(artifact.save_executable(tmp_path / f"part{i}", tvm.compile(work.mod, target=target), "layer",
                                              inputs, target, threads=2))
    no_fallback = litecoop.load(artifact.combine(tmp_path / "listed", parts))
    symbolic = _symbolic_build(from_torch("layer", module, example), listed, target)
    assert symbolic[1][0].shape == [1, -1, 32]
    tuned = litecoop.load(artifact.combine(tmp_path / "any", parts, symbolic))
    assert [b.library for b in tuned.manifest.builds] == ["tuned-0.so", "tuned-1.so", "any-shape.so"]
    for shape_set in (*listed, [(1, 7, 32)], [(1, 40, 32)]):
        inputs = shapes.inputs_at(example, shape_set, seed=5)
        np.testing.assert_allclose(tuned(*inputs), torch_output(module, inputs), atol=1e-4)
    np.testing.assert_allclose(no_fallback(*example), torch_output(module, example), atol=1e-4)
    with pytest.raises(UserError, match=r"not among the tuned shapes .* no build for other shapes"):
        no_fallback(np.zeros((1, 7, 32), np.float32))
    with pytest.raises(UserError, match="input 'input0': rank"):
        tuned(np.zeros((7, 32), np.float32))


def test_bert_with_a_symbolic_sequence_builds_and_matches_torch_at_unlisted_lengths():
    """BERT slices its position table to the sequence length; torch.export's proof that the length is at most 512
    lets the build take it (without it TVM's build rejects the module)."""
    import tvm
    from tvm import relax

    from litecoop.workload import zoo

    module, example = zoo.build("bert_ci", 0)
    executable, specs = _symbolic_build(from_torch("bert_ci", module, example), [[(1, 16), (1, 16)], [(1, 32), (1, 32)]],
                                        load_target("host"))
    assert [spec.shape for spec in specs] == [[1, -1], [1, -1]]
    vm = relax.VirtualMachine(executable, tvm.cpu())
    for length in (9, 45):
        inputs = shapes.inputs_at(example, [(1, length), (1, length)], seed=length)
        (out,) = vm["main"](*(tvm.runtime.tensor(x) for x in inputs))
        np.testing.assert_allclose(out.numpy(), torch_output(module, inputs), atol=1e-4)


@pytest.mark.slow  # two real tunes and their fresh-process final timings
def test_tune_at_two_shapes_from_python(tmp_path):
    """`litecoop.tune(..., shapes=...)`: a tuned build per listed shape, each correct and reported; the search of
    the second starts from the first's records; an unlisted shape runs correctly on the symbolic build."""
    module, example = encoder_layer()
    tuned = litecoop.tune(module, example, trials=4, shapes="1x16x32;1x32x32", work_dir=tmp_path / "run",
                          measure_peers=False, fresh=True)
    assert [r.workload for r in tuned.reports] == ["TransformerEncoderLayer@1x16x32", "TransformerEncoderLayer@1x32x32"]
    assert all(r.correct and r.trials_measured_this_run >= 1 for r in tuned.reports)
    assert tuned.reports[1].warm_start == str(tmp_path / "run" / "shape-0")
    moved = tuned.save(tmp_path / "moved")
    served = litecoop.load(moved)
    for length in (16, 32, 21):
        inputs = shapes.inputs_at(example, [(1, length, 32)], seed=length)
        np.testing.assert_allclose(served(*inputs), torch_output(module, inputs), atol=1e-4)
