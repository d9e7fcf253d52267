"""End to end: real TVM builds, real measurements, the real 270M model; and resume after Ctrl-C."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from litecoop import load as load_tuned
import tvm

pytestmark = pytest.mark.slow  # real tunes with builds and the 270M model

TESTS = Path(__file__).parent


def litecoop(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "litecoop.cli", "tune", "--workload", "small_workload:make",
                             "--search", "smoke", "--no-peers", *args], cwd=TESTS, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def records(work_dir: Path) -> list[str]:
    path = work_dir / "database_tuning_record.json"
    return [line for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_litecoop_tunes_small_kernel_with_270m(tmp_path):
    report_path = tmp_path / "report.json"
    tuned = run_cli("tune", "--workload", "small_workload:make", "--search", "smoke", "--no-peers", "--strategy", "litecoop",
                    "--models", "test-tiny", "--trials", "16", "--work-dir", str(tmp_path / "w"), "--json", str(report_path))
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["correct"] and report["speedup"] > 1.0
    assert report["llm"]["gemma3-270m"]["calls"] >= 1
    # every measured trial is credited to exactly one lineage; the 270M's children joined the tree
    lineages = report["lineages"]
    assert sum(o["measured"] for o in lineages.values()) == report["trials_measured_this_run"]
    assert lineages["gemma3-270m"]["added"] >= 1
    assert 16 <= len(records(tmp_path / "w")) <= 16 + report["tasks"]
    # the saved artifact computes relu(a @ b), checked against numpy
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((64, 128), dtype=np.float32), rng.standard_normal((128, 96), dtype=np.float32)
    np.testing.assert_allclose(load_tuned(tmp_path / "w" / "tuned")(a, b), np.maximum(a @ b, 0), rtol=1e-4, atol=1e-4)


def test_interrupted_run_resumes_without_losing_records(tmp_path):
    work_dir = tmp_path / "w"
    proc = litecoop("--strategy", "mcts", "--trials", "64", "--work-dir", str(work_dir))
    deadline = time.time() + 600
    while len(records(work_dir)) < 8 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    kept = records(work_dir)
    assert 8 <= len(kept) < 64

    refused = run_cli("tune", "--workload", "small_workload:make", "--search", "smoke", "--no-peers",
                      "--strategy", "mcts", "--trials", "64", "--work-dir", str(work_dir))
    assert refused.returncode == 2 and "--resume" in refused.stderr

    resumed = litecoop("--strategy", "mcts", "--trials", str(len(kept) + 8), "--work-dir", str(work_dir), "--resume")
    _, err = resumed.communicate(timeout=900)
    assert resumed.returncode == 0, err[-3000:]
    final = records(work_dir)
    assert final[: len(kept)] == kept
    assert len(final) >= len(kept) + 8


def test_constant_weights_are_prepacked_at_build_time(tmp_path):
    """A linear layer tuned on the CPU: its weight is marked layout-free for the search, the tuned kernels
    read a weight packed once at build time (no layout transform left in `main`), and the output is right."""
    from tvm.s_tir import meta_schedule as ms

    from litecoop.build import compiler
    from litecoop import workload
    from litecoop.targets import load_target

    work_dir, report = tmp_path / "work", tmp_path / "report.json"
    tuned = run_cli("tune", "--workload", "small_workload:make_linear", "--trials", "8", "--search", "smoke", "--no-peers",
                    "--work-dir", str(work_dir), "--json", str(report))
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    data = json.loads(report.read_text())
    assert data["correct"]

    work, target = workload.load("small_workload:make_linear"), load_target("host")
    tasks = ms.relax_integration.extract_tasks(compiler.fuse(work.mod, target), target)
    assert any("layout_free_buffers" in (task.dispatched[0]["main"].attrs or {}) for task in tasks)
    database = ms.database.JSONDatabase(work_dir=str(work_dir), allow_missing=False)
    with target, database, tvm.transform.PassContext(opt_level=3):
        main = compiler.prepacked_module(database, compiler.fuse(work.mod, target), target)["main"].script()
    assert "_prepacked" in main and "_weight_prepack" not in main
