"""The examples of `litecoop bench-code` (examples/code): each loads (downloaded ones are fetched from PyPI and
checked against their pinned SHA-256) and its original passes the checks run before any LLM call (its tests,
the input generator at every checked size; C++: compiles and runs on its inputs), in the sandbox. No LLM."""

import json
import shutil
import tomllib
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
    try:
        return load_examples(ROOT)
    except UserError as err:
        if "offline?" in str(err):
            pytest.skip(f"PyPI is not reachable: {err}")
        raise


@pytest.mark.slow  # each example's tests and generator in the sandbox: ~30 s for all
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_original_passes_its_checks(tasks, name):
    evaluator = Evaluator(tasks[name])
    try:
        evaluator.check_original()
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
    for variable, value in {"PIP_CONFIG_FILE": "/dev/null", "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
                            "PIP_FIND_LINKS": "", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2"}.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(UserError, match=r"^example base58_encode: cannot download base58==2\.1\.1 .*offline\?") as raised:
        load_examples(directory.parent)
    assert "\n" not in str(raised.value) and not (directory / "slow.py").exists()


def test_a_changed_file_is_refused(tmp_path, monkeypatch, tasks):
    directory = fetched_copy(tmp_path)
    config = (directory / "example.toml").read_text()
    pinned = CONFIGS["base58_encode"]["fetch"]["sha256"]
    (directory / "example.toml").write_text(config.replace(pinned, "0" * 64))
    with pytest.raises(UserError, match="has SHA-256 ec7bc75f.*not the pinned 00000000"):
        load_examples(directory.parent)
    (directory / "example.toml").write_text(config)
    (directory / "slow.py").write_text("def b58encode(v):\n    return b''\n")  # edited: fetched again
    assert "b58encode_int" in load_examples(directory.parent)["base58_encode"].source


def test_bench_code_keeps_one_seed_per_folder(tmp_path):
    """A folder's finished runs are skipped on resume by example and strategy, so a run of another seed into it
    would be skipped silently: that is a one-line error before any model loads."""
    (tmp_path / "runs.jsonl").write_text(json.dumps({"example": "word_count", "strategy": "single", "seed": 0}) + "\n")
    with pytest.raises(UserError, match="holds runs of seed 0; give seed 1 its own --out"):
        run_bench_code(ROOT, ["single"], 1, tmp_path, seed=1, names=["word_count"])


def test_bench_code_reports_every_strategy_the_folder_holds(tmp_path):
    """A resumed bench-code that adds one strategy renders bench.md over all the folder's runs (here the committed
    seed-0 runs of word_count, all done, so no model is asked)."""
    runs = [line for line in (ROOT.parent.parent / "results" / "code-cpu" / "runs.jsonl").read_text().splitlines()
            if json.loads(line)["example"] == "word_count"]
    (tmp_path / "runs.jsonl").write_text("\n".join(runs) + "\n")
    summary = run_bench_code(ROOT, ["ga"], 4, tmp_path, seed=0, names=["word_count"])
    assert list(summary) == ["single", "moa", "ga"]
    assert "| single " in (tmp_path / "bench.md").read_text()
