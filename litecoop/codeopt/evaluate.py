"""Validate and time candidate rewrites against the original, every step in the sandbox.

A candidate passes when it parses (Python) or compiles at -O2 (C++), the user's tests pass, and its
outputs equal the original's (generated inputs for a Python entry point, the given input files for C++).
It is then timed against the original, interleaved, at least 10 runs each; it counts as faster only if
the median speedup is >= 5% and a one-sided Mann-Whitney U test gives p < 0.05 (the SWE-Perf practice,
scipy.stats). The speedup's 95% confidence interval is a percentile bootstrap of the ratio of medians.
A Python entry is timed as a user calls it: every repetition in a fresh process on a fresh input, and a
candidate whose second call on one input is CACHE_RATIO x faster than its first (beyond what the
original gains) fails as caching.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import bootstrap, mannwhitneyu

from litecoop.errors import UserError
from litecoop.codeopt import sandbox
from litecoop.codeopt.failures import caching, compile_error, failing_test, first_difference
from litecoop.codeopt.task import CodeTask, compiler, defines, syntax_error

HARNESS = Path(__file__).with_name("harness.py")
MIN_SPEEDUP = 1.05
ALPHA = 0.05
CHECK_SIZES = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55]
CHECK_SEEDS = 3
IGNORED = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", "*.pyc", ".venv", "node_modules")


@dataclass
class Evaluation:
    """The verdict on one candidate. Times are seconds per run; speedup = median original / median candidate."""

    passed: bool
    failure: str | None = None
    original_s: list[float] = field(default_factory=list)
    candidate_s: list[float] = field(default_factory=list)
    speedup: float = 0.0
    p_value: float = 1.0
    ci: tuple[float, float] = (0.0, 0.0)

    @property
    def significant(self) -> bool:
        """Tests passed and the speedup is at least MIN_SPEEDUP with p < ALPHA."""
        return self.passed and self.speedup >= MIN_SPEEDUP and self.p_value < ALPHA

    def as_dict(self) -> dict:
        """The verdict as a JSON-able dict (times in seconds)."""
        return {"passed": self.passed, "failure": self.failure, "speedup": self.speedup, "p_value": self.p_value,
                "ci": list(self.ci), "significant": self.significant, "original_s": self.original_s,
                "candidate_s": self.candidate_s}


def compare(original_s: list[float], candidate_s: list[float]) -> tuple[float, float, tuple[float, float]]:
    """(speedup of medians, one-sided Mann-Whitney p that the candidate is faster, 95% bootstrap CI)."""
    original, candidate = np.asarray(original_s), np.asarray(candidate_s)
    speedup = float(np.median(original) / np.median(candidate))
    p_value = float(mannwhitneyu(candidate, original, alternative="less").pvalue)
    interval = bootstrap((original, candidate), lambda o, c, axis: np.median(o, axis) / np.median(c, axis),
                         n_resamples=2000, method="percentile", random_state=0).confidence_interval
    return speedup, p_value, (float(interval.low), float(interval.high))


class Evaluator:
    """Runs one task's original once (baseline) and then any number of candidates, in a private temp dir.

    Raises UserError from `prepare()` when the original itself fails (tests, compile, entry inputs).
    """

    def __init__(self, task: CodeTask, repeat: int = 10, limits: sandbox.Limits = sandbox.Limits(),
                 sandboxed: bool = True):
        """`sandboxed=False` runs generated code without bubblewrap (the user's `--no-sandbox`); with it,
        raises UserError if no sandbox works here."""
        sandbox.require(sandboxed)
        self.task, self.repeat, self.limits, self.sandboxed = task, repeat, limits, sandboxed
        self.root = Path(tempfile.mkdtemp(prefix="litecoop-code-"))
        (self.root / "scratch").mkdir()
        shutil.copy(HARNESS, self.root / "harness.py")
        if task.inputs:
            shutil.copy(task.inputs, self.root / "litecoop_inputs.py")
        self.size: int | None = None
        self.reference: list[str] = []
        self.original_run_s = 0.0
        self.tests_s = 0.0

    # layout: root/original and root/candidate are copies of the file's directory
    def _stage(self, side: str, source: str) -> Path:
        directory = self.root / side
        shutil.rmtree(directory, ignore_errors=True)
        shutil.copytree(self.task.path.parent, directory, ignore=IGNORED)
        (directory / self.task.path.name).write_text(source)
        tests = self.task.tests_path
        if tests and tests.is_file() and not tests.is_relative_to(self.task.path.parent):
            shutil.copy(tests, directory / tests.name)
        return directory

    def _harness(self, mode: str, arguments: dict, wall_s: float | None = None,
                 stdin: Path | None = None) -> tuple[dict | None, str | None]:
        limits = sandbox.Limits(wall_s=wall_s or self.limits.wall_s, cpu_s=int(wall_s or self.limits.cpu_s),
                                memory_bytes=self.limits.memory_bytes)
        if self.task.inputs:
            arguments = arguments | {"inputs": str(self.root / "litecoop_inputs.py")}
        outcome = self._run([sys.executable, str(self.root / "harness.py"), mode, json.dumps(arguments)],
                            self.root / "scratch", limits, stdin, visible=(self.root,))
        if outcome.failure:
            return None, outcome.failure
        return json.loads(outcome.stdout.strip().splitlines()[-1]), None

    def _run(self, argv: list[str], directory: Path, limits: sandbox.Limits, stdin: Path | None = None,
             visible: tuple[Path, ...] = ()) -> sandbox.Outcome:
        """`sandbox.run` with this evaluator's isolation: `directory` writable, `visible` readable."""
        return sandbox.run(argv, directory, limits, stdin, visible, isolated=self.sandboxed)

    def _module(self, side: str) -> str:
        return str(self.root / side / self.task.path.name)

    def _test_argv(self) -> list[str]:
        """pytest on the staged copy of the tests file, or the user's shell command."""
        tests = self.task.tests_path
        if tests is None:
            return ["/bin/sh", "-c", self.task.tests]
        staged = tests.relative_to(self.task.path.parent) if tests.is_relative_to(self.task.path.parent) else tests.name
        return [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", str(staged)]

    def _run_tests(self, directory: Path) -> str | None:
        limits = self.limits if not self.tests_s else sandbox.Limits(
            wall_s=max(10.0, 10 * self.tests_s), cpu_s=int(max(10.0, 10 * self.tests_s)),
            memory_bytes=self.limits.memory_bytes)
        outcome = self._run(self._test_argv(), directory, limits)
        if outcome.failure:
            reason = outcome.failure if "terminated" in outcome.failure else failing_test(outcome.stdout + outcome.stderr)
            return f"tests failed: {reason or outcome.failure}"
        return None

    def _compile(self, directory: Path) -> str | None:
        outcome = self._run([compiler(), "-O2", "-std=c++17", "-o", "program", self.task.path.name], directory,
                            sandbox.Limits(wall_s=120, cpu_s=120))
        return f"does not compile: {compile_error(outcome.stderr) or outcome.failure}" if outcome.failure else None

    def _outputs(self, directory: Path) -> tuple[list[str], str | None]:
        outputs = []
        for path in self.task.test_inputs():
            outcome = self._run([str(directory / "program")], directory, self.limits, stdin=path)
            if outcome.failure:
                return outputs, f"{path.name}: {outcome.failure}"
            outputs.append(outcome.stdout)
        return outputs, None

    def _bench_input(self) -> Path:
        inputs = self.task.test_inputs()
        named = [p for p in inputs if p.stem == "bench"]
        return named[0] if named else max(inputs, key=lambda p: p.stat().st_size)

    def check_original(self) -> Path:
        """The checks run before any LLM call: the original compiles and runs on every input file (C++), or
        passes its own tests and, with the input generator, works at every size and seed the output check
        uses (Python). Returns the staged original. Raises UserError naming the problem."""
        directory = self._stage("original", self.task.source)
        if self.task.lang == "cpp":
            failure = self._compile(directory)
            if failure:
                raise UserError(f"the original {failure}")
            self.reference, failure = self._outputs(directory)
            if failure:
                raise UserError(f"the original fails on {failure}")
            return directory
        start = time.perf_counter()
        failure = self._run_tests(directory)
        if failure:
            raise UserError(f"{failure.replace('tests failed', 'tests fail on the original')}")
        self.tests_s = time.perf_counter() - start
        self._entry_check("validate", {"sizes": CHECK_SIZES, "seeds": CHECK_SEEDS})
        return directory

    def prepare(self) -> None:
        """Check the original (`check_original`) and fix the timing input. Raises UserError if the original fails."""
        self.check_original()
        if self.task.lang == "python":
            self.size = self._entry_check("calibrate", {"target_s": 0.05})["size"]
        candidate = self._stage("candidate", self.task.source)  # the original timed against itself
        if self.task.lang == "cpp":
            self._compile(candidate)
        self.original_run_s = float(np.median(self.time(repeat=3)["original"]))

    def _entry_check(self, mode: str, arguments: dict) -> dict:
        """Run the harness's `validate` (the generator and the original at every checked size and seed) or
        `calibrate` (the timing input's size) on the original. Raises UserError naming the failing size."""
        result, failure = self._harness(mode, {"original": self._module("original"), "entry": self.task.entry} | arguments)
        problem = failure or result["problem"]
        if problem:
            raise UserError(f"cannot call '{self.task.entry}' on generated inputs: {problem}")
        return result

    def check(self, source: str) -> str | None:
        """None if the candidate is correct, else a one-line reason."""
        problem = syntax_error(source, self.task.lang)
        if problem:
            return f"does not parse: {problem}"
        if self.task.lang == "python" and not defines(source, self.task.entry):
            return f"does not define '{self.task.entry}'"
        directory = self._stage("candidate", source)
        if self.task.lang == "cpp":
            failure = self._compile(directory)
            if failure:
                return failure
            outputs, failure = self._outputs(directory)
            if failure:
                return f"fails on {failure}"
            wrong = [(path, first_difference(expected, got))
                     for path, got, expected in zip(self.task.test_inputs(), outputs, self.reference) if got.split() != expected.split()]
            if not wrong:
                return None
            smallest, difference = min(wrong, key=lambda pair: pair[0].stat().st_size)
            return f"wrong output on {', '.join(path.name for path, _ in wrong)} ({smallest.name}: {difference})"
        failure = self._run_tests(directory)
        if failure:
            return failure
        result, failure = self._harness("check", {"original": self._module("original"),
                                                  "candidate": self._module("candidate"),
                                                  "entry": self.task.entry, "sizes": CHECK_SIZES, "seeds": CHECK_SEEDS})
        return f"output check: {failure}" if failure else (None if result["ok"] else f"different output: {result['detail']}")

    def time(self, repeat: int) -> dict[str, list[float]]:
        """Interleaved seconds per run of the original and the candidate staged by `check`: keys "original",
        "candidate", and for Python "original_again", "candidate_again" (second calls on the same input).
        Raises RuntimeError if the timing run fails (a flaky candidate)."""
        wall_s = 20 + repeat * (1 + 12 * self.original_run_s)  # a candidate over ~5x slower fails
        if self.task.lang == "python":
            result, failure = self._harness("time", {"original": self._module("original"),
                                                     "candidate": self._module("candidate"), "entry": self.task.entry,
                                                     "size": self.size, "repeat": repeat}, wall_s)
        else:
            commands = {side: {"argv": [str(self.root / side / "program")], "cwd": str(self.root / side)}
                        for side in ("original", "candidate")}
            result, failure = self._harness("time-commands", commands | {"repeat": repeat}, wall_s,
                                            stdin=self._bench_input())
        if failure:
            raise RuntimeError(f"timing failed: {failure}")
        return result

    def evaluate(self, source: str, repeat: int | None = None) -> Evaluation:
        """Check, then time. Never raises for a bad candidate: the reason lands in `Evaluation.failure`."""
        failure = self.check(source)
        if failure:
            return Evaluation(passed=False, failure=failure)
        try:
            samples = self.time(repeat or self.repeat)
        except RuntimeError as err:
            return Evaluation(passed=False, failure=str(err))
        original_s, candidate_s = samples["original"], samples["candidate"]
        speedup, p_value, ci = compare(original_s, candidate_s)
        failure = caching(samples)
        return Evaluation(failure is None, failure, original_s, candidate_s, speedup, p_value, ci)

    def hot_spots(self) -> str:
        """Profile of the original, as text for prompts: cProfile + line counts (Python), gprof (C++)."""
        if self.task.lang == "python":
            result, failure = self._harness("profile", {"original": self._module("original"),
                                                        "entry": self.task.entry, "size": self.size})
            if failure:
                return f"no profile ({failure})"
            lines = [f"line {n} ({share:.0%} of the time): {text}" for n, share, text in result["lines"]]
            return "\n".join(["cProfile, top functions by own time (ncalls tottime percall cumtime percall):",
                              *result["functions"][:5], "hot lines:", *lines])
        directory = self._stage("profile", self.task.source)
        outcome = self._run([compiler(), "-O2", "-pg", "-fno-inline", "-std=c++17", "-o", "program",
                             self.task.path.name], directory, sandbox.Limits(wall_s=120, cpu_s=120))
        if not outcome.failure:
            outcome = self._run([str(directory / "program")], directory, self.limits, stdin=self._bench_input())
        gprof = shutil.which("gprof")
        if outcome.failure or not gprof or not (directory / "gmon.out").exists():
            return f"whole program: {self.original_run_s * 1e3:.1f} ms on {self._bench_input().name}"
        flat = self._run([gprof, "-b", "-p", "program", "gmon.out"], directory, self.limits).stdout
        rows = [line[:140] for line in flat.splitlines() if line.strip()[:1].isdigit()][:5]
        return "\n".join([f"gprof flat profile on {self._bench_input().name} "
                          "(% time, cumulative s, self s, calls, ..., function):", *rows])

    def close(self) -> None:
        """Delete the scratch directory (`root`) with everything staged in it."""
        shutil.rmtree(self.root, ignore_errors=True)
