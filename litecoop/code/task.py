"""What the user asked to optimize: one source file, its language, its tests, optionally an entry point."""

from __future__ import annotations

import ast
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

LANGUAGES = ("python", "cpp")


@dataclass(frozen=True)
class CodeTask:
    """One file to make faster.

    `tests`: for Python a pytest file (relative to the file's directory or absolute) or a shell command run
    in that directory; for C++ a directory of `*.in` files (or one file) fed to the program's stdin, whose
    outputs must match the original's. `entry`: a Python function to time and compare on generated inputs;
    `inputs`: a file defining `make_inputs(size, seed) -> tuple` of its arguments.
    """

    path: Path
    lang: str
    tests: str
    entry: str | None = None
    inputs: Path | None = None

    @property
    def source(self) -> str:
        return self.path.read_text()

    @property
    def tests_path(self) -> Path | None:
        """The tests as a file or directory, or None when they are a shell command."""
        candidate = Path(self.tests) if Path(self.tests).is_absolute() else self.path.parent / self.tests
        return candidate if candidate.exists() else None

    def test_inputs(self) -> list[Path]:
        """C++ only: the input files, sorted by name."""
        tests = self.tests_path
        return sorted(tests.glob("*.in")) if tests.is_dir() else [tests]


def compiler() -> str:
    """The C++ compiler: $CXX, else g++ or clang++ on PATH. Raises UserError if there is none."""
    found = shutil.which(os.environ.get("CXX", "")) or shutil.which("g++") or shutil.which("clang++")
    if not found:
        raise UserError("no C++ compiler found (install g++ or set CXX)")
    return found


def syntax_error(source: str, lang: str) -> str | None:
    """A one-line syntax problem of Python source, or None (C++ is checked by compiling)."""
    if lang != "python":
        return None
    try:
        ast.parse(source)
    except SyntaxError as err:
        return f"line {err.lineno}: {err.msg}"
    return None


def defines(source: str, name: str) -> bool:
    """True if Python `source` defines a top-level function `name`."""
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
               for node in ast.parse(source).body)


def load_task(path: Path, lang: str, tests: str, entry: str | None = None, inputs: Path | None = None) -> CodeTask:
    """Check what can be checked without running anything. Raises UserError with a one-line reason."""
    if lang not in LANGUAGES:
        raise UserError(f"unknown language '{lang}' (known: {', '.join(LANGUAGES)})")
    if not path.is_file():
        raise UserError(f"no such file: {path}")
    task = CodeTask(path.resolve(), lang, tests, entry, inputs.resolve() if inputs else None)
    try:
        problem = syntax_error(task.source, lang)
    except UnicodeDecodeError:
        raise UserError(f"{path} is not a text file") from None
    if problem:
        raise UserError(f"{path} does not parse: {problem}")
    if lang == "python" and entry and not defines(task.source, entry):
        raise UserError(f"entry point '{entry}' does not exist in {path}")
    if inputs and not inputs.is_file():
        raise UserError(f"no such inputs file: {inputs}")
    if lang == "cpp":
        compiler()
        if task.tests_path is None or not task.test_inputs():
            raise UserError(f"C++ tests must be a directory of *.in files or one input file: {tests}")
        if entry:
            raise UserError("--entry applies to Python only; a C++ program is run as a whole")
    return task
