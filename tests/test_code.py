"""Source-level optimizer: the sandbox (bubblewrap, which CI installs), validation and timing on real code,
and strategies with the real 270M model. C++ cases compile with the system g++."""

import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import pytest

from litecoop.codeopt import sandbox
from litecoop.codeopt.evaluate import Evaluation, Evaluator, compare
from litecoop.codeopt.meta import Prompter
from litecoop.codeopt.prompts import Contexts, excerpt, merge_request, rewrite_request, splice
from litecoop.codeopt.search import Candidate, Pool
from litecoop.codeopt.session import optimize, write_outputs
from litecoop.codeopt.task import load_task
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
# What the issue found in the wild: a memo dict as a default argument. The timer repeated one input, so
# every timed call after the first was a dictionary lookup.
MEMO_PY = SLOW_PY.replace("def unique_keys(values: list[int]) -> list[int]:\n", """\
def unique_keys(values: list[int], _memo={}) -> list[int]:
    key = tuple(values)
    if key not in _memo:
        _memo[key] = _unique_keys(values)
    return list(_memo[key])


def _unique_keys(values):
""")


def python_task(tmp_path, source=SLOW_PY, inputs=None, entry="unique_keys"):
    (tmp_path / "slow.py").write_text(source)
    (tmp_path / "test_slow.py").write_text(TESTS_PY)
    if inputs:
        (tmp_path / "inputs.py").write_text(inputs)
    return load_task(tmp_path / "slow.py", "python", "test_slow.py", entry, tmp_path / "inputs.py" if inputs else None)


def cpp_task(tmp_path):
    (tmp_path / "slow.cpp").write_text(SLOW_CPP)
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "small.in").write_text("3\n1 2 3\n")
    (tmp_path / "inputs" / "edge.in").write_text("0\n")
    (tmp_path / "inputs" / "bench.in").write_text("12000\n" + " ".join(str(i % 97) for i in range(12000)) + "\n")
    return load_task(tmp_path / "slow.cpp", "cpp", "inputs")


def run_in_sandbox(tmp_path, code, **limits):
    return sandbox.run([sys.executable, "-c", textwrap.dedent(code)], tmp_path, sandbox.Limits(**limits))


def test_sandbox_is_available():
    """CI installs bubblewrap (.ci/run): without it every sandbox test below would be meaningless."""
    assert sandbox.available(), "bubblewrap (bwrap) is missing or cannot create namespaces here"


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


def test_sandbox_runs_an_interpreter_that_lives_under_tmp(tmp_path):
    """A venv under /tmp (which the sandbox replaces with a private /tmp) still runs sandboxed code."""
    venv = Path(tempfile.mkdtemp(prefix="litecoop-venv-", dir="/tmp"))
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    script = ("import sys\nfrom pathlib import Path\nfrom litecoop.codeopt import sandbox\n"
              "outcome = sandbox.run([sys.executable, '-c', 'print(6 * 7)'], Path(sys.argv[1]))\n"
              "print(outcome.failure or outcome.stdout.strip())\n")
    result = subprocess.run([str(venv / "bin" / "python"), "-c", script, str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    shutil.rmtree(venv)
    assert result.stdout.strip() == "42", result.stdout + result.stderr[-2000:]


def test_sandbox_blocks_writes_outside_the_work_dir_and_network(tmp_path):
    # a file outside the work dir that the sandbox sees (not under /tmp, which it replaces with its own)
    tag = uuid.uuid4().hex
    victim = Path.home() / f".litecoop-victim-{tag}"
    victim.write_text("keep me")
    box = tmp_path / "box"
    box.mkdir()
    try:
        outcome = run_in_sandbox(box, f"import os\nos.remove({str(victim)!r})")
        assert outcome.failure and "Read-only file system" in outcome.stderr
        assert victim.read_text() == "keep me"
    finally:
        victim.unlink()
    # every other place a file could land: other mounts, the real /tmp and /dev/shm, the home directory
    outside = [tmp_path / f"beside-{tag}", Path("/tmp") / f"escape-{tag}", Path("/dev/shm") / f"escape-{tag}",
               Path("/var/tmp") / f"escape-{tag}", Path.home() / f".escape-{tag}", Path("/run") / f"escape-{tag}"]
    script = "\n".join(f"try: open({str(p)!r}, 'w').write('x')\nexcept OSError: pass" for p in outside)
    assert run_in_sandbox(box, script + "\nopen('mine.txt', 'w').write('ok')").failure is None
    assert (box / "mine.txt").read_text() == "ok"
    assert not [p for p in outside if p.exists()]
    network = run_in_sandbox(box, "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=3)")
    assert network.failure and "Network is unreachable" in network.stderr


def test_no_sandbox_refuses_to_run_generated_code(tmp_path, monkeypatch):
    task = python_task(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    sandbox.available.cache_clear()
    try:
        with pytest.raises(UserError, match="no working sandbox.*--no-sandbox"):
            Evaluator(task)
    finally:
        monkeypatch.undo()
        sandbox.available.cache_clear()


def test_splice_keeps_helpers_the_answer_left_out():
    answer = "import bisect\n\ndef unique_keys(values: list[int]) -> list[int]:\n    return sorted({_key(v) for v in values})\n"
    merged = splice(SLOW_PY, answer)
    assert "def _key(x: int)" in merged and "import bisect" in merged and "sorted({_key" in merged
    assert "seen.append" not in merged


def test_merge_shows_the_first_version_whole_and_the_others_as_changes():
    request = merge_request("python", Contexts("p", "t", "i"), [(SLOW_PY, "the original"), (FAST_PY, "2.0x")],
                            "unique_keys")
    assert request.count("def _key(x: int)") == 1 and request.count("return x % 1000") == 1
    assert "+    seen, found = [], set()" in request and "-    seen = []" in request


MODULE_PY = '''\
import sys
import json

if sys.version_info >= (3, 0):
    def as_bytes(text):
        return text.encode()
else:
    def as_bytes(text):
        return text

MASK = 0xFFFFFFFF


def checksum(text):
    total = 0
    for byte in as_bytes(text):
        total = (total * 31 + byte) & MASK
    return total


def dump(records):
    """Unrelated to checksum: a model optimizing checksum need not read it."""
''' + "".join(f"    records = [dict(r, step={i}) for r in records]\n" for i in range(40)) + "    return json.dumps(records)\n"


def test_prompts_show_the_code_the_entry_uses_and_answers_splice_back():
    shown = excerpt(MODULE_PY, "checksum")
    assert shown.startswith("# The code `checksum` uses; the file's other 50 lines are not shown")  # dump, json, blanks
    assert "import sys" in shown and "def as_bytes" in shown and "MASK = 0xFFFFFFFF" in shown
    assert "def checksum" in shown and "import json" not in shown and "def dump" not in shown
    assert "def dump" not in rewrite_request("python", Contexts("p", "t", "i"), MODULE_PY, "checksum")
    answer = "def checksum(text):\n    return sum(as_bytes(text)) & MASK\n"
    merged = splice(MODULE_PY, answer)
    assert "sum(as_bytes(text))" in merged and "def dump" in merged and "total * 31" not in merged
    assert excerpt(MODULE_PY, None) == MODULE_PY  # no entry: the whole file
    assert excerpt(SLOW_PY, "unique_keys") == SLOW_PY  # the entry uses all of it


def verdict(original_s, candidate_s, passed=True) -> Evaluation:
    """The verdict `Evaluator.evaluate` gives a candidate with these timings (seconds per run)."""
    speedup, p_value, ci = compare(original_s, candidate_s)
    return Evaluation(passed, None if passed else "tests failed", original_s, candidate_s, speedup, p_value, ci)


def test_a_speedup_counts_only_if_large_consistent_and_correct():
    """Faster means at least 5% faster in the median and consistently so (one-sided Mann-Whitney p < 0.05), with
    the tests passing: a clear 20% gain counts; a consistent 3% gain, a 20% median gain lost in the noise and a
    clear gain of a candidate that fails its tests do not."""
    original = [1.0 + 0.001 * i for i in range(10)]
    clear = verdict(original, [0.8 + 0.001 * i for i in range(10)])
    assert clear.speedup == pytest.approx(1.25, rel=0.01) and clear.ci[0] > 1.2 and clear.significant
    small = verdict(original, [0.97 + 0.001 * i for i in range(10)])
    assert small.p_value < 0.001 and 1.0 < small.speedup < 1.05 and not small.significant
    spread = [0.4, 1.6, 0.6, 2.2, 0.8, 1.4, 1.0, 2.0, 1.2, 1.8]
    noisy = verdict(spread, [x / 1.2 for x in reversed(spread)])
    assert noisy.speedup == pytest.approx(1.2) and noisy.p_value > 0.05 and noisy.ci[0] < 1 and not noisy.significant
    wrong = verdict(original, [0.5 + 0.001 * i for i in range(10)], passed=False)
    assert wrong.speedup > 1.9 and not wrong.significant
    assert [e.as_dict()["significant"] for e in (clear, small, noisy, wrong)] == [True, False, False, False]


@pytest.mark.slow  # interleaved timing runs / real LLM calls
def test_python_validation_and_timing(tmp_path):
    evaluator = Evaluator(python_task(tmp_path))
    try:
        evaluator.prepare()
        assert evaluator.size and evaluator.original_run_s > 0.01
        assert "not in seen" in evaluator.hot_spots()
        fast = evaluator.evaluate(FAST_PY)
        assert fast.passed and fast.significant and fast.speedup > 2 and fast.ci[0] > 1
        broken = evaluator.evaluate(SLOW_PY.replace("return seen", "return seen[::-1]"))
        assert not broken.passed and "tests failed: FAILED test_slow.py::test_order - assert [2, 3] == [3, 2]" in broken.failure
        # passes the user's two tests, differs on generated inputs
        subtle = evaluator.evaluate(SLOW_PY.replace("return seen", "return seen if len(values) < 8 else seen[1:]"))
        assert not subtle.passed and "different output" in subtle.failure
        hang = evaluator.evaluate(SLOW_PY.replace("seen = []", "seen = []\n    while True: pass"))
        assert not hang.passed and "terminated" in hang.failure
        memo = evaluator.evaluate(MEMO_PY)
        assert not memo.passed and memo.failure.startswith("caching:"), memo.failure
        assert memo.speedup < 1.5  # each timed call got a fresh input in a fresh process: the memo never hit
        # GA fitness: the confirmed speedup (20 more runs), and only a significant one
        team = Team("test-tiny")
        pool = Pool(team, evaluator, Prompter(team, "python", Contexts("p", "t", "i"), enabled=False), budget=0)
        candidate = Candidate(FAST_PY, "test", "-", fast, 0.0, 0.0)
        pool.confirm(candidate)
        assert len(candidate.confirmation.original_s) == 20 and candidate.confirmation.significant
        assert candidate.fitness == candidate.confirmation.speedup != fast.speedup
        assert Candidate(FAST_PY, "test", "-", fast, 0.0, 0.0, confirmation=memo).fitness == 0.0
    finally:
        evaluator.close()


def test_cpp_validation_and_timing(tmp_path):
    evaluator = Evaluator(cpp_task(tmp_path))
    try:
        evaluator.prepare()
        fast = evaluator.evaluate(FAST_CPP)
        assert fast.passed and fast.significant, fast
        wrong = evaluator.evaluate(FAST_CPP.replace("s += x;", "s += x + (i == 2);"))
        assert not wrong.passed and "edge.in" not in wrong.failure, wrong.failure
        assert wrong.failure.endswith("(small.in: token 3: expected '6', got '7')"), wrong.failure
        broken = evaluator.evaluate("int main( {").failure
        assert broken.startswith("does not compile: slow.cpp:1:") and ": error: " in broken, broken  # g++'s error line
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


def test_entry_is_found_from_the_tests_or_required(tmp_path):
    assert python_task(tmp_path, entry=None).entry == "unique_keys"
    with pytest.raises(UserError, match="--entry is required"):
        load_task(tmp_path / "slow.py", "python", "python -m pytest -q test_slow.py")
    (tmp_path / "test_two.py").write_text("import slow as s\nfrom slow import _key\n\n"
                                          "def test_both():\n    assert s.unique_keys([_key(1)]) == [1]\n")
    with pytest.raises(UserError, match=r"several functions of slow.py \(_key, unique_keys\).*--entry"):
        load_task(tmp_path / "slow.py", "python", "test_two.py")


def test_broken_generator_or_original_stops_before_any_llm_call(tmp_path):
    bad_generator = "def make_inputs(size, seed):\n    return ([i % 7 for i in range(size)], 1 / size)\n"
    evaluator = Evaluator(python_task(tmp_path, inputs=bad_generator))
    with pytest.raises(UserError, match="input generator fails at size 0 .*ZeroDivisionError"):
        evaluator.prepare()
    evaluator.close()
    raises_at_13 = SLOW_PY.replace("    seen = []", "    if len(values) == 13:\n        raise ValueError('13')\n    seen = []")
    evaluator = Evaluator(python_task(tmp_path, raises_at_13))
    with pytest.raises(UserError, match="original raises at size 13 .*ValueError"):
        evaluator.prepare()
    evaluator.close()
    (tmp_path / "inputs.py").write_text(bad_generator)
    result = subprocess.run([sys.executable, "-m", "litecoop.cli", "optimize-code", str(tmp_path / "slow.py"), "--lang",
                             "python", "--tests", "test_slow.py", "--inputs", str(tmp_path / "inputs.py"),
                             "--models", "test-tiny"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "size 0" in result.stderr and result.stderr.strip().count("\n") == 0, result.stderr


def test_cli_bad_input_exits_2(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n")
    result = subprocess.run([sys.executable, "-m", "litecoop.cli", "optimize-code", str(tmp_path / "broken.py"),
                             "--lang", "python", "--tests", "x"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "does not parse" in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


@pytest.mark.slow  # interleaved timing runs / real LLM calls
def test_moa_with_real_model(tmp_path):
    """The 270M model proposes and aggregates candidates; every answer is validated and accounted.
    (Tests run one strategy on the real model to keep CI short; `litecoop bench-code` runs all three.)"""
    strategy = "moa"
    task = python_task(tmp_path)
    team = Team("test-tiny")
    report = optimize(task, strategy, team, budget=4, meta_prompting=True, prompt_cache=tmp_path / "prompts")
    usage = report["llm"]["gemma3-270m"]
    meta = report["meta_prompting"]
    answers = report["llm_answers"]
    # One model, three agents: three plain proposals, then the aggregation if two passed, else the first role.
    assert meta["calls"] == 1 and answers == 4 and report["moa_layers"] in ([4], [3, 1])
    proposed = [c for c in report["candidates"] if c["origin"] == "moa-proposer"]
    assert {c["role"] for c in proposed} <= {"", "algorithm"}
    assert usage["calls"] == answers + meta["calls"] and usage["completion_tokens"] > 0
    assert len(report["candidates"]) + usage["invalid"] + usage["duplicate"] == answers
    if report["best"]["origin"] == "original":  # nothing beat the original: nothing to confirm, nothing claimed
        assert report["best"]["diff"] == "" and report["best"]["confirmation"] is None
        assert not report["significant"] and report["speedup"] == 1.0
    else:  # the best was timed again on fresh runs, and the report states that re-timing, not the screening
        confirmation = report["best"]["confirmation"]
        if confirmation["passed"]:  # (a confirmation that failed, e.g. a flaky candidate, has no timings)
            assert len(confirmation["original_s"]) == len(confirmation["candidate_s"]) == 20
        assert report["speedup"] == confirmation["speedup"] and report["significant"] == confirmation["significant"]
    write_outputs(report, tmp_path / "moa.json")
    rows = [line for line in (tmp_path / "moa.md").read_text().splitlines() if line.startswith("| ") and "| moa-" in line]
    assert len(rows) == len(report["candidates"])  # each candidate's verdict: its speedup or why it failed
    again = optimize(task, strategy, team, budget=1, meta_prompting=True, prompt_cache=tmp_path / "prompts")
    assert again["meta_prompting"]["calls"] == 0 and again["meta_prompting"]["cache_hits"] == 1
    assert team.models[0]._llama.n_ctx() == 16384  # trained for 32k, capped for memory (was a fixed 4096)


def test_prompt_too_long_is_skipped_counted_and_reported(tmp_path):
    task = python_task(tmp_path)
    team = Team("test-tiny")
    team.models[0].spec = team.models[0].spec.model_copy(update={"n_ctx_max": 256})  # below any rewrite prompt here
    report = optimize(task, "single", team, budget=2, meta_prompting=False)
    assert team.models[0]._llama.n_ctx() == 256
    assert report["prompts_too_long"] == 2 and report["llm_answers"] == 2 and report["candidates_tried"] == 0
    assert report["llm"]["gemma3-270m"]["calls"] == 0 and report["stopped"] is None
    write_outputs(report, tmp_path / "report.json")
    assert "2 prompts too long" in (tmp_path / "report.md").read_text()
