"""Source-level optimizer: the sandbox, validation and timing on real code, and strategies with the real
270M model. C++ cases compile with the system g++."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from litecoop.code import sandbox
from litecoop.code.evaluate import Evaluator
from litecoop.code.prompts import splice
from litecoop.code.session import optimize
from litecoop.code.task import load_task
from litecoop.errors import UserError
from litecoop.llm.team import Team

SLOW_PY = '''\
def _key(x: int) -> int:
    return x % 1000


def unique_keys(values: list[int]) -> list[int]:
    """Distinct keys in first-seen order."""
    seen = []
    for value in values:
        if _key(value) not in seen:
            seen.append(_key(value))
    return seen
'''
FAST_PY = SLOW_PY.replace("seen = []", "seen, found = [], set()").replace(
    "if _key(value) not in seen:\n            seen.append(_key(value))",
    "if _key(value) not in found:\n            found.add(_key(value))\n            seen.append(_key(value))")
TESTS_PY = '''\
from slow import unique_keys


def test_order():
    assert unique_keys([3, 1003, 2, 3]) == [3, 2]


def test_empty():
    assert unique_keys([]) == []
'''

SLOW_CPP = '''\
#include <cstdio>
#include <vector>
int main() {
    int n; if (scanf("%d", &n) != 1) return 0;
    std::vector<long long> a(n);
    for (auto &x : a) scanf("%lld", &x);
    for (int i = 0; i < n; ++i) { long long s = 0; for (int j = 0; j <= i; ++j) s += a[j]; printf("%lld\\n", s); }
}
'''
FAST_CPP = '''\
#include <cstdio>
#include <vector>
int main() {
    int n; if (scanf("%d", &n) != 1) return 0;
    long long s = 0, x;
    for (int i = 0; i < n; ++i) { scanf("%lld", &x); s += x; printf("%lld\\n", s); }
}
'''


def python_task(tmp_path, source=SLOW_PY):
    (tmp_path / "slow.py").write_text(source)
    (tmp_path / "test_slow.py").write_text(TESTS_PY)
    return load_task(tmp_path / "slow.py", "python", "test_slow.py", "unique_keys")


def cpp_task(tmp_path):
    (tmp_path / "slow.cpp").write_text(SLOW_CPP)
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "small.in").write_text("3\n1 2 3\n")
    (tmp_path / "inputs" / "edge.in").write_text("0\n")
    (tmp_path / "inputs" / "bench.in").write_text("12000\n" + " ".join(str(i % 97) for i in range(12000)) + "\n")
    return load_task(tmp_path / "slow.cpp", "cpp", "inputs")


def run_in_sandbox(tmp_path, code, **limits):
    return sandbox.run([sys.executable, "-c", textwrap.dedent(code)], tmp_path, sandbox.Limits(**limits))


def test_sandbox_runs_code_and_stops_runaways(tmp_path):
    assert run_in_sandbox(tmp_path, "print(6 * 7)").stdout.strip() == "42"
    assert "wall time limit" in run_in_sandbox(tmp_path, "import time\nwhile True: time.sleep(1)", wall_s=2).failure
    assert "CPU time limit" in run_in_sandbox(tmp_path, "while True: pass", cpu_s=1, wall_s=20).failure
    assert run_in_sandbox(tmp_path, "x = []\nwhile True: x.append(bytearray(1 << 24))",
                          memory_bytes=512 << 20).failure
    bomb = run_in_sandbox(tmp_path, "import os\nwhile True: os.fork()", processes=16, wall_s=10)
    assert bomb.failure and bomb.seconds < 10
    assert "File too large" in run_in_sandbox(tmp_path, "open('big', 'wb').write(bytes(8 << 20))",
                                              file_bytes=1 << 20).failure


@pytest.mark.skipif(not sandbox.namespaces_available(), reason="needs user namespaces (unshare) for a read-only /")
def test_sandbox_blocks_deleting_files_and_network(tmp_path):
    victim = Path.cwd() / "tests" / "small_workload.py"
    before = victim.read_text()
    box = tmp_path / "box"
    box.mkdir()
    outcome = run_in_sandbox(box, f"import os\nos.remove({str(victim)!r})")
    assert outcome.failure and "Read-only file system" in outcome.stderr
    assert victim.read_text() == before
    assert run_in_sandbox(box, "open('mine.txt', 'w').write('ok')").failure is None
    network = run_in_sandbox(box, "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=3)")
    assert network.failure


def test_splice_keeps_helpers_the_answer_left_out():
    answer = "import bisect\n\ndef unique_keys(values: list[int]) -> list[int]:\n    return sorted({_key(v) for v in values})\n"
    merged = splice(SLOW_PY, answer)
    assert "def _key(x: int)" in merged and "import bisect" in merged and "sorted({_key" in merged
    assert "seen.append" not in merged


def test_python_validation_and_timing(tmp_path):
    evaluator = Evaluator(python_task(tmp_path))
    try:
        evaluator.prepare()
        assert evaluator.size and evaluator.original_run_s > 0.01
        assert "not in seen" in evaluator.hot_spots()
        fast = evaluator.evaluate(FAST_PY)
        assert fast.passed and fast.significant and fast.speedup > 2 and fast.ci[0] > 1
        broken = evaluator.evaluate(SLOW_PY.replace("return seen", "return seen[::-1]"))
        assert not broken.passed and "tests failed" in broken.failure
        # passes the user's two tests, differs on generated inputs
        subtle = evaluator.evaluate(SLOW_PY.replace("return seen", "return seen if len(values) < 8 else seen[1:]"))
        assert not subtle.passed and "different output" in subtle.failure
        hang = evaluator.evaluate(SLOW_PY.replace("seen = []", "seen = []\n    while True: pass"))
        assert not hang.passed and "terminated" in hang.failure
    finally:
        evaluator.close()


def test_cpp_validation_and_timing(tmp_path):
    evaluator = Evaluator(cpp_task(tmp_path))
    try:
        evaluator.prepare()
        fast = evaluator.evaluate(FAST_CPP)
        assert fast.passed and fast.significant, fast
        wrong = evaluator.evaluate(FAST_CPP.replace("s += x;", "s += x + (i == 2);"))
        assert not wrong.passed and "small.in" in wrong.failure and "edge.in" not in wrong.failure
        assert "does not compile" in evaluator.evaluate("int main( {").failure
    finally:
        evaluator.close()


def test_bad_input_is_a_user_error(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="does not parse"):
        python_task(tmp_path, "def f(:\n")
    with pytest.raises(UserError, match="entry point 'unique_keys' does not exist"):
        python_task(tmp_path, "def other(x: int) -> int:\n    return x\n")
    evaluator = Evaluator(python_task(tmp_path, SLOW_PY.replace("return seen", "return seen[:1]")))
    with pytest.raises(UserError, match="tests fail on the original"):
        evaluator.prepare()
    evaluator.close()
    (tmp_path / "cpp").mkdir()
    task = cpp_task(tmp_path / "cpp")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(UserError, match="no C\\+\\+ compiler"):
        load_task(task.path, "cpp", "inputs")


def test_cli_bad_input_exits_2(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n")
    result = subprocess.run([sys.executable, "-m", "litecoop.cli", "optimize-code", str(tmp_path / "broken.py"),
                             "--lang", "python", "--tests", "x"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "does not parse" in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_moa_with_real_model(tmp_path):
    """The 270M model proposes and aggregates candidates; every answer is validated and accounted.
    (Tests run one strategy on the real model to keep CI short; `litecoop bench-code` runs all three.)"""
    strategy = "moa"
    task = python_task(tmp_path)
    team = Team("test-tiny")
    report = optimize(task, strategy, team, budget=2, prompt_cache=tmp_path / "prompts")
    usage = report["llm"]["gemma3-270m"]
    meta = report["meta_prompting"]
    assert report["llm_answers"] == 2 and meta["calls"] == 1
    assert usage["calls"] == 2 + meta["calls"] and usage["completion_tokens"] > 0
    assert len(report["candidates"]) + usage["invalid"] + usage["duplicate"] == 2
    assert report["significant"] == (report["speedup"] >= 1.05 and report["p_value"] < 0.05)
    if report["best"]["origin"] == "original":
        assert report["best"]["diff"] == ""
    again = optimize(task, strategy, team, budget=1, prompt_cache=tmp_path / "prompts")
    assert again["meta_prompting"]["calls"] == 0 and again["meta_prompting"]["cache_hits"] == 1
