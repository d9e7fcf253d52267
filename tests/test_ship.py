"""Shipping a tuned model: the artifact (`litecoop.artifact`), the Python API and a normal (non-editable) install.

The fast tests save a real build of a small torch model (TVM's default schedules: no search needed to test the
artifact) and load it back; the slow one installs the built wheel into a fresh venv and runs the README's
library example there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import litecoop
from litecoop import artifact
from litecoop.errors import UserError

ROOT = Path(__file__).resolve().parent.parent


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.up, self.down = torch.nn.Linear(32, 64), torch.nn.Linear(64, 16)

    def forward(self, x):
        return self.down(torch.relu(self.up(x)))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(artifact directory, torch module) of a small MLP built by TVM's default pipeline, saved as an artifact."""
    import tvm

    from litecoop.targets import load_target
    from litecoop.workload import from_torch

    torch.manual_seed(0)
    module = MLP().eval()
    work = from_torch("mlp", module, [np.random.default_rng(0).standard_normal((4, 32), dtype=np.float32)])
    target = load_target("host")
    spec = artifact.InputSpec(name="x", shape=[4, 32], dtype="float32")
    manifest = artifact.Manifest(workload="mlp", target="host", threads=2, cpu_flags=artifact.cpu_flags_of_target(target),
                                 builds=[artifact.Build(library="tuned-0.so", sha256="", inputs=[spec])])
    directory = artifact.save(tmp_path_factory.mktemp("art") / "mlp.tuned", manifest, [tvm.compile(work.mod, target)])
    return directory, module


def _torch(module, x):
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def test_a_saved_artifact_moved_elsewhere_loads_and_matches_torch(saved, tmp_path):
    directory, module = saved
    moved = Path(shutil.move(str(litecoop.load(directory).save(tmp_path / "copy")), tmp_path / "moved"))
    fast = litecoop.load(moved)
    x = np.random.default_rng(1).standard_normal((4, 32), dtype=np.float32)
    np.testing.assert_allclose(fast(x), _torch(module, x), atol=1e-5)
    np.testing.assert_allclose(fast(torch.from_numpy(x)), _torch(module, x), atol=1e-5)  # torch in, NumPy out


def test_unaligned_inputs_are_copied_not_refused(saved):
    directory, module = saved
    buffer = np.zeros(4 * 32 + 1, dtype=np.float32)
    x = buffer[1:].reshape(4, 32)  # 4 bytes past a 64-byte boundary at best
    x[:] = np.random.default_rng(2).standard_normal((4, 32))
    assert x.ctypes.data % 64 != 0
    np.testing.assert_allclose(litecoop.load(directory)(x), _torch(module, x), atol=1e-5)


@pytest.mark.parametrize("inputs, message", [
    ((np.zeros((4, 32), np.float64),), "dtype float64, expected float32"),
    ((np.zeros((4, 32, 1), np.float32),), "rank 3, expected 2"),
    ((np.zeros((5, 32), np.float32),), "not among the tuned shapes"),
    ((np.zeros((4, 32), np.float32),) * 2, "expected 1 inputs"),
])
def test_bad_inputs_raise_one_clear_error(saved, inputs, message):
    with pytest.raises(UserError, match=message):
        litecoop.load(saved[0])(*inputs)


def test_a_missing_or_corrupted_artifact_is_refused(saved, tmp_path):
    with pytest.raises(UserError, match="manifest.json is missing"):
        litecoop.load(tmp_path / "nothing")
    broken = Path(shutil.copytree(saved[0], tmp_path / "broken"))
    library = broken / "tuned-0.so"
    data = bytearray(library.read_bytes())
    data[len(data) // 2] ^= 0xFF
    library.write_bytes(bytes(data))
    with pytest.raises(UserError, match="corrupted"):
        litecoop.load(broken)
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(UserError, match="malformed manifest"):
        litecoop.load(broken)


def test_a_cpu_without_the_instructions_it_was_built_for_is_refused(saved, tmp_path):
    other = Path(shutil.copytree(saved[0], tmp_path / "other"))
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["cpu_flags"] += ["amx_tile_from_the_future"]
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="amx_tile_from_the_future, which this CPU lacks"):
        litecoop.load(other)


def test_the_code_uses_the_instructions_its_manifest_names(saved):
    """The manifest's flags come from the build target: this machine's CPU (AVX-512 here) is what LLVM targets."""
    flags = json.loads((saved[0] / "manifest.json").read_text())["cpu_flags"]
    assert "avx2" in flags and set(flags) <= artifact.host_cpu_flags()


def test_one_model_called_from_eight_threads_gives_every_caller_its_own_answer(saved):
    """8 threads x 1000 calls. One VM shared by all threads crashed this test (a segfault within 16,000 calls):
    the VM keeps its frames in itself, so each thread gets its own."""
    directory, module = saved
    fast = litecoop.load(directory)
    inputs = [np.random.default_rng(seed).standard_normal((4, 32), dtype=np.float32) for seed in range(8)]
    expected = [_torch(module, x) for x in inputs]
    wrong = []

    def client(index):
        for _ in range(1000):
            if not np.allclose(fast(inputs[index]), expected[index], atol=1e-5):
                wrong.append(index)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_the_api_refuses_bad_models_before_any_work():
    with pytest.raises(UserError, match="needs example_inputs"):
        litecoop.tune(MLP())
    with pytest.raises(UserError, match="expected a torch module"):
        litecoop.tune(42)
    with pytest.raises(UserError, match="unknown models preset"):
        litecoop.tune("zoo:bert_ci", models="no_such_team")


LIBRARY_USER = """
import litecoop
fast = litecoop.tune("zoo:bert_ci", trials=8, search="smoke", measure_peers=False)
fast.save("bert.tuned")
"""
SERVER = """
import sys, numpy as np, torch, litecoop
from litecoop.workload import zoo
fast = litecoop.load(sys.argv[1])
module, inputs = zoo.build("bert_ci", seed=0)
with torch.no_grad():
    expected = module(*map(torch.from_numpy, inputs)).numpy()
print("max_abs_error", float(np.max(np.abs(fast(*inputs) - expected))))
print("heavy", [m for m in ("llama_cpp", "xgboost", "litecoop.llm.team", "litecoop.tuning.run") if m in sys.modules])
"""


@pytest.mark.slow
def test_installed_from_the_wheel_a_ten_line_script_tunes_saves_and_a_server_loads(tmp_path):
    """`pip wheel .` (built with this environment's setuptools) installed (not editable) into a fresh venv that reuses
    this environment's dependencies: the presets ship as package data, a script tunes a zoo model and saves it, the
    artifact is moved, and a second process loads it without the LLM stack or XGBoost and matches torch."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    wheel = next((tmp_path / "dist").glob("litecoop-*.whl"))
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], check=True,
                   capture_output=True)
    user = tmp_path / "user"
    user.mkdir()
    (user / "tune_it.py").write_text(LIBRARY_USER)
    assert len(LIBRARY_USER.strip().splitlines()) <= 10
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"LITECOOP_CACHE": str(tmp_path / "cache")}
    where = subprocess.run([python, "-c", "import litecoop; print(litecoop.__file__)"], cwd=user, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert str(venv) in where, where  # the wheel's copy, not the checkout's
    tuned = subprocess.run([python, "tune_it.py"], cwd=user, env=env, capture_output=True, text=True, timeout=1500)
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    server = tmp_path / "server"
    shutil.move(str(user / "bert.tuned"), server)
    (tmp_path / "serve.py").write_text(SERVER)
    served = subprocess.run([python, str(tmp_path / "serve.py"), str(server)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert served.returncode == 0, served.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in served.stdout.strip().splitlines())
    assert float(lines["max_abs_error"]) < 1e-4
    assert lines["heavy"] == "[]"
