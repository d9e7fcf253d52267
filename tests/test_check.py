"""`litecoop check`: an unchanged build passes; a real slowdown (the tuned records removed, so the default schedule
is built) fails with exit 1 and a JUnit failure, both when the baseline's saved build is re-measured alongside (in
a fresh process) and when only the report's stored samples are left."""

import json
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from conftest import run_cli
import litecoop
from litecoop.workload import load

pytestmark = pytest.mark.slow  # rebuilds and re-times a tuned workload


def test_check_passes_unchanged_and_fails_injected_slowdown(tmp_path, small_mcts_run):
    work_dir, baseline = tmp_path / "w", tmp_path / "baseline.json"
    shutil.copytree(small_mcts_run[0], work_dir)
    report = json.loads(small_mcts_run[1].read_text())
    report.update(work_dir=str(work_dir), artifact=str(work_dir / "tuned"), library=str(work_dir / "tuned" / "tuned-0.so"))
    baseline.write_text(json.dumps(report))

    same = run_cli("check", "--baseline", str(baseline), "--tolerance", "25%", "--junit", str(tmp_path / "ok.xml"))
    assert same.returncode == 0, same.stderr[-2000:]
    assert "re-measured" in same.stderr
    assert ET.parse(tmp_path / "ok.xml").getroot().get("failures") == "0"

    # the regression: the tuned schedules are gone, so the default schedule is built
    (work_dir / "database_tuning_record.json").write_text("")
    slow = run_cli("check", "--baseline", str(baseline), "--junit", str(tmp_path / "bad.xml"))
    assert slow.returncode == 1, slow.stderr[-2000:]
    assert "FAIL" in slow.stderr
    assert ET.parse(tmp_path / "bad.xml").getroot().get("failures") == "1"

    shutil.rmtree(work_dir / "tuned")
    stored = run_cli("check", "--baseline", str(baseline))
    assert stored.returncode == 1, stored.stderr[-2000:]
    assert "stored" in stored.stderr and "FAIL" in stored.stderr


def test_build_writes_an_artifact_that_loads_and_computes_what_the_tuned_one_does(tmp_path, small_mcts_run):
    built = run_cli("build", "--workload", "small_workload:make", "--db", str(small_mcts_run[0]),
                    "--out", str(tmp_path / "built"))
    assert built.returncode == 0, built.stderr[-2000:]
    inputs = load("small_workload:make").inputs
    rebuilt, tuned = litecoop.load(tmp_path / "built"), litecoop.load(small_mcts_run[0] / "tuned")
    np.testing.assert_allclose(rebuilt(*inputs), tuned(*inputs), rtol=1e-5, atol=1e-6)

    missing = run_cli("build", "--workload", "small_workload:make", "--db", str(tmp_path / "nowhere"))
    assert missing.returncode != 0 and "no tuning database" in missing.stderr
    assert "Traceback" not in missing.stderr
