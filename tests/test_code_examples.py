"""The examples of `litecoop bench-code` (examples/code): each loads (downloaded ones are fetched from PyPI and
checked against their pinned SHA-256) and its original passes the checks run before any LLM call (its tests,
the input generator at every checked size; C++: compiles and runs on its inputs), in the sandbox. No LLM."""

import json
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest

from litecoop.codeopt.bench import load_examples, run_bench_code
from litecoop.codeopt.evaluate import Evaluator
from litecoop.errors import UserError

ROOT = Path(__file__).resolve().parent.parent / "examples" / "code"
CONFIGS = {path.parent.name: tomllib.loads(path.read_text()) for path in sorted(ROOT.glob("**/example.toml"))}


def test_examples_are_many_and_varied():
    langs = [c["lang"] for c in CONFIGS.values()]
    assert len(CONFIGS) >= 15 and langs.count("cpp") >= 4
    fetched = {c["fetch"]["package"] for c in CONFIGS.values() if "fetch" in c}
    assert len(fetched) >= 5
    for name, config in CONFIGS.items():
        assert config["description"] and (ROOT / config["lang"] / name).is_dir()
        if "fetch" in config:  # never committed: ignored beside its example.toml
            assert config["file"] in (ROOT / config["lang"] / name / ".gitignore").read_text().split()


@pytest.fixture(scope="module")
def tasks():
    """Every example, loaded: a fetched example missing from the checkout is downloaded (PyPI must be reachable
    then, or this fails with the fetch's one-line error: the examples are not checked without their sources)."""
    return load_examples(ROOT)


def wrong_rewrite(task) -> str:
    """A rewrite that compiles and defines the entry point but computes nothing right."""
    if task.lang == "cpp":
        return "int main() { return 0; }\n"
    return task.source + f"\n\ndef {task.entry}(*args, **kwargs):\n    raise RuntimeError('wrong rewrite')\n"


@pytest.mark.slow  # each example's checks in the sandbox, then a wrong rewrite: ~2 min for all
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_original_passes_its_checks(tasks, name):
    """The original passes the checks run before any LLM call (`check_original` raises otherwise), and those
    checks can tell: a wrong rewrite fails them (Python: the example's own tests; C++: the outputs on its inputs,
    which the original produced)."""
    task = tasks[name]
    evaluator = Evaluator(task)
    try:
        staged = evaluator.check_original()
        assert (staged / task.path.name).read_text() == task.source
        if task.lang == "cpp":
            assert len(evaluator.reference) == len(task.test_inputs()) >= 2
            assert all(output.strip() for output in evaluator.reference), "every input gives some output"
            assert evaluator.check(wrong_rewrite(task)).startswith("wrong output on "), name
        else:
            assert evaluator.tests_s > 0
            assert evaluator.check(wrong_rewrite(task)).startswith("tests failed: "), name
    finally:
        evaluator.close()


def fetched_copy(tmp_path, name="base58_encode"):
    """A copy of one downloaded example without its source file."""
    directory = tmp_path / "examples" / name
    shutil.copytree(ROOT / CONFIGS[name]["lang"] / name, directory, ignore=shutil.ignore_patterns("slow.py", "__pycache__"))
    return directory


def test_a_fetch_that_fails_is_one_user_error(tmp_path, monkeypatch):
    directory = fetched_copy(tmp_path)
    monkeypatch.setenv("LITECOOP_CACHE", str(tmp_path / "cache"))  # nothing cached, and no index to reach
    offline(monkeypatch)
    with pytest.raises(UserError, match=r"^example base58_encode: cannot download base58==2\.1\.1 .*offline\?") as raised:
        load_examples(directory.parent)
    assert "\n" not in str(raised.value) and not (directory / "slow.py").exists()


def offline(monkeypatch):
    """pip pointed at an index that nobody serves: any download fails fast."""
    for variable, value in {"PIP_CONFIG_FILE": "/dev/null", "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
                            "PIP_FIND_LINKS": "", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2"}.items():
        monkeypatch.setenv(variable, value)


def test_a_changed_file_is_refused(tmp_path, monkeypatch, tasks):
    """A wheel whose file does not have the pinned SHA-256 is refused, and an edited copy of the file is
    replaced by the wheel's. The wheel is built here, in the cache, from the checked-out example (so nothing is
    downloaded)."""
    name = "base58_encode"
    spec = CONFIGS[name]["fetch"]
    directory = fetched_copy(tmp_path, name)
    cache = tmp_path / "cache"
    monkeypatch.setenv("LITECOOP_CACHE", str(cache))
    offline(monkeypatch)
    wheel = cache / "code-examples" / f"{spec['package']}-{spec['version']}" / f"{spec['package']}-{spec['version']}-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(spec["member"], tasks[name].path.read_bytes())
    config = (directory / "example.toml").read_text()
    (directory / "example.toml").write_text(config.replace(spec["sha256"], "0" * 64))
    with pytest.raises(UserError, match=f"has SHA-256 {spec['sha256'][:8]}.*not the pinned 00000000"):
        load_examples(directory.parent)
    assert not (directory / "slow.py").exists()
    (directory / "example.toml").write_text(config)
    (directory / "slow.py").write_text("def b58encode(v):\n    return b''\n")  # edited: extracted again
    assert load_examples(directory.parent)[name].source == tasks[name].source
    with zipfile.ZipFile(wheel, "w") as archive:  # the cached wheel changed: refused, the file left as it was
        archive.writestr(spec["member"], b"def b58encode(v):\n    return b''\n")
    (directory / "slow.py").write_text("def b58encode(v):\n    return b'edited'\n")
    with pytest.raises(UserError, match="not the pinned"):
        load_examples(directory.parent)
    assert (directory / "slow.py").read_text() == "def b58encode(v):\n    return b'edited'\n"


def test_bench_code_keeps_one_seed_per_folder(tmp_path):
    """A folder's finished runs are skipped on resume by example and strategy, so a run of another seed into it
    would be skipped silently: that is a one-line error before any model loads."""
    (tmp_path / "runs.jsonl").write_text(json.dumps({"example": "word_count", "strategy": "single", "seed": 0}) + "\n")
    with pytest.raises(UserError, match="holds runs of seed 0; give seed 1 its own --out"):
        run_bench_code(ROOT, ["single"], 1, tmp_path, seed=1, names=["word_count"])


def finished_run(strategy: str, speedup: float, significant: bool, model: str = "qwen2.5-coder-1.5b") -> dict:
    """What `run_bench_code` logs for a finished run of word_count (the fields its report reads)."""
    usage = {"calls": 2, "load_s": 1.0, "prompt_tokens": 1000, "completion_tokens": 200, "seconds": 20.0,
             "invalid": 0, "duplicate": 0, "regressions": 0, "compute_token_params": 1.2e3 * 1.5e9}
    candidate = {"origin": strategy, "model": model, "role": "", "passed": True, "failure": None, "speedup": speedup,
                 "p_value": 0.001 if significant else 0.3, "llm_s": 10.0, "validation_s": 1.0}
    return {"example": "word_count", "strategy": strategy, "seed": 0, "budget": 4, "speedup": speedup,
            "significant": significant, "p_value": candidate["p_value"], "ci": [speedup * 0.9, speedup * 1.1],
            "best": {"origin": strategy, "model": model, "role": ""}, "candidates": [candidate, candidate],
            "candidates_tried": 2, "llm": {model: usage}, "llm_s": 20.0, "wall_s": 30.0}


def test_bench_code_reports_every_strategy_the_folder_holds(tmp_path):
    """A resumed bench-code that adds one strategy renders bench.md over all the folder's runs: here every run
    of word_count is already in the log (so no model is asked), and the invocation names only ga."""
    runs = [finished_run("single", 1.5, True), finished_run("moa", 1.02, False), finished_run("ga", 2.0, True)]
    (tmp_path / "runs.jsonl").write_text("".join(json.dumps(run) + "\n" for run in runs))
    summary = run_bench_code(ROOT, ["ga"], 4, tmp_path, seed=0, names=["word_count"])
    assert list(summary) == ["single", "moa", "ga"]
    assert [summary[s]["success_rate"] for s in summary] == [1.0, 0.0, 1.0]
    assert summary["moa"]["geomean_speedup"] == 1.0, "a speedup that is not significant counts 1.0x"
    row = next(line for line in (tmp_path / "bench.md").read_text().splitlines() if line.startswith("| word_count"))
    assert [cell.strip() for cell in row.split("|")[1:-1]] == ["word_count", "1.50x", "1.02x (n.s.)", "2.00x"]
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 3, "nothing was run again"
