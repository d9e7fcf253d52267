"""`litecoop check`: an unchanged build passes; a real slowdown (the tuned records removed, so the
default schedule is built) fails with exit 1 and a JUnit failure, both when the baseline library is
re-measured alongside and when only the report's stored samples are left."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

TESTS = Path(__file__).parent


def litecoop(*args):
    return subprocess.run([sys.executable, "-m", "litecoop.cli", *args], cwd=TESTS, capture_output=True,
                          text=True, timeout=900, env={**os.environ, "COLUMNS": "200"})


def test_check_passes_unchanged_and_fails_injected_slowdown(tmp_path):
    work_dir, baseline = tmp_path / "w", tmp_path / "baseline.json"
    tuned = litecoop("tune", "--workload", "small_workload:make", "--strategy", "mcts", "--trials", "16",
                     "--search", "smoke", "--work-dir", str(work_dir), "--json", str(baseline))
    assert tuned.returncode == 0, tuned.stderr[-2000:]

    same = litecoop("check", "--baseline", str(baseline), "--tolerance", "25%", "--junit", str(tmp_path / "ok.xml"))
    assert same.returncode == 0, same.stderr[-2000:]
    assert "re-measured" in same.stderr
    assert ET.parse(tmp_path / "ok.xml").getroot().get("failures") == "0"

    (work_dir / "database_tuning_record.json").write_text("")
    slow = litecoop("check", "--baseline", str(baseline), "--junit", str(tmp_path / "bad.xml"))
    assert slow.returncode == 1, slow.stderr[-2000:]
    assert "FAIL" in slow.stderr
    assert ET.parse(tmp_path / "bad.xml").getroot().get("failures") == "1"

    (work_dir / "tuned.so").unlink()
    stored = litecoop("check", "--baseline", str(baseline))
    assert stored.returncode == 1, stored.stderr[-2000:]
    assert "stored" in stored.stderr and "FAIL" in stored.stderr
    assert json.loads(baseline.read_text())["tuned_samples_s"]
