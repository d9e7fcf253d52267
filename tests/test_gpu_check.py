"""The GPU check's packing and installing steps, run here on two small packages (the real bundle is TVM and its
dependencies, ~300 MB, minutes of xz): `scripts/gpu_bundle.sh` splits them into parts with their SHA-256,
`scripts/gpu_check.sh` keeps the parts of each transfer, refuses a corrupted one, installs once all are there, and
on a machine without a GPU stops with exit status 4 before tuning anything. Packing needs the package index."""

import os
import subprocess
from pathlib import Path

import pytest
import tvm

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str, *args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / name), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


@pytest.mark.skipif(tvm.cuda(0).exist, reason="on a GPU machine the check would go on to tune")
def test_the_bundle_travels_in_parts_and_installs_once_all_arrived_intact(tmp_path):
    env = {"PACKAGES": "tabulate==0.10.0 mdurl==0.1.2", "LC_GPU_HOME": str(tmp_path / "gpu")}
    packed = _script("gpu_bundle.sh", tmp_path / "bundle", "10K", env=env)
    assert packed.returncode == 0, packed.stderr[-2000:]
    parts = sorted((tmp_path / "bundle").iterdir(), key=lambda folder: int(folder.name))
    assert len(parts) >= 3 and all((folder / "parts.sha256").is_file() for folder in parts)

    first = _script("gpu_check.sh", parts[0], env=env)
    assert first.returncode == 3 and f"kept 1 of {len(parts)} bundle parts" in first.stdout
    corrupted = next(parts[1].glob("site.tar.xz.part*"))
    intact = corrupted.read_bytes()
    corrupted.write_bytes(bytes([intact[0] ^ 1]) + intact[1:])
    again = _script("gpu_check.sh", *parts[1:], env=env)
    assert again.returncode == 3 and f"kept {len(parts) - 1} of {len(parts)}" in again.stdout
    assert not (tmp_path / "gpu" / "site").exists()

    corrupted.write_bytes(intact)  # sent again: the other parts are kept from the earlier transfers
    complete = _script("gpu_check.sh", parts[1], env=env)
    assert complete.returncode == 4, complete.stdout[-2000:] + complete.stderr[-2000:]
    assert "installed in" in complete.stdout and "TVM finds no GPU" in complete.stderr
    assert (tmp_path / "gpu" / "site" / "tabulate").is_dir() and (tmp_path / "gpu" / "site" / "mdurl").is_dir()
