"""Bad input: one-line error, exit code 2, no traceback."""

import pytest
from conftest import run_cli


def bad_models_preset(tmp_path):
    weights_file = tmp_path / "w.gguf"
    weights_file.write_bytes(b"not a model")
    preset = tmp_path / "models.toml"
    preset.write_text(f'[[model]]\nname = "m"\nrole = "small"\nparameters = 1e8\npath = "{weights_file}"\n'
                      f'sha256 = "{"0" * 64}"\n')
    return str(preset)


@pytest.mark.parametrize("args, message", [
    (["--workload", "no_such_kernel"], "unknown workload"),
    (["--trials", "0"], "trials: Input should be greater than 0"),
    (["--target", "no-such-target"], "unknown targets preset"),
    (["--workload", "missing.onnx"], "model file not found"),
    (["--strategy", "greedy"], "unknown strategy"),
    (["--workload", "garbled.onnx"], "not a valid ONNX model"),
    (["--models", "BAD", "--strategy", "litecoop"], "checksum mismatch"),
    (["--workload", "flux_conv", "--shapes", "1xx2"], "--shapes: expected shapes such as"),
    (["--workload", "flux_conv", "--shapes", "1x8"], "shapes [(1, 8)]: the model takes 2 inputs, not 1"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, args, message):
    (tmp_path / "garbled.onnx").write_bytes(b"\x00\x01garbage")
    args = [bad_models_preset(tmp_path) if a == "BAD" else a for a in args]
    monkeypatch.chdir(tmp_path)
    result = run_cli("tune", *args, "--work-dir", str(tmp_path / "w"))  # a traceback would raise here
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
