"""Bad input: one-line error, exit code 2, no traceback."""

import subprocess
import sys

import pytest


def litecoop(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "litecoop.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


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
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    (tmp_path / "garbled.onnx").write_bytes(b"\x00\x01garbage")
    args = [bad_models_preset(tmp_path) if a == "BAD" else a for a in args]
    result = litecoop("tune", *args, "--work-dir", str(tmp_path / "w"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
