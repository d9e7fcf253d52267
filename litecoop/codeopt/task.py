"""What the user asked to optimize: one source file, its language, its tests, optionally an entry point."""

from __future__ import annotations

import ast
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from litecoop.errors import UserError

LANGUAGES = ("python", "cpp")


@dataclass(frozen=True)
class CodeTask:
    """One file to make faster.

    `tests`: for Python a pytest file (relative to the file's directory or absolute) or a shell command run
    in that directory; for C++ a directory of `*.in` files (or one file) fed to the program's stdin, whose
    outputs must match the original's. `entry`: the Python function to time and compare on generated inputs
    (always set for Python); `inputs`: a file defining `make_inputs(size, seed) -> tuple` of its arguments.
    """

    path: Path
    lang: str
    tests: str
    entry: str | None = None
    inputs: Path | None = None

    @property
    def source(self) -> str:
        """The file's current text."""
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


def called_functions(tests_source: str, module: str, defined: set[str]) -> set[str]:
    """The functions of `defined` that the tests call from `module` (`from module import f [as g]`; `g(...)`,
    or `import module [as m]`; `m.f(...)`)."""
    tree = ast.parse(tests_source)
    imported = {alias.asname or alias.name: alias.name for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module == module for alias in node.names}
    modules = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names if alias.name == module}
    called = set()
    for node in ast.walk(tree):
        function = getattr(node, "func", None)
        if isinstance(function, ast.Name) and function.id in imported:
            called.add(imported[function.id])
        elif isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) and function.value.id in modules:
            called.add(function.attr)
    return called & defined


def find_entry(path: Path, tests_path: Path | None) -> str:
    """The one function of the Python file `path` that its pytest file calls. Raises UserError if the tests are a
    shell command, do not parse, or call none or several of its functions."""
    if tests_path is None or not tests_path.is_file():
        raise UserError("--entry is required when --tests is not a pytest file: name the function to time")
    try:
        tests_source = tests_path.read_text()
        defined = {node.name for node in ast.parse(path.read_text()).body
                   if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        called = called_functions(tests_source, path.stem, defined)
    except (SyntaxError, UnicodeDecodeError):
        raise UserError(f"cannot read the tests {tests_path.name} to find the entry; name it with --entry") from None
    if len(called) != 1:
        which = f"several functions of {path.name} ({', '.join(sorted(called))})" if called else f"no function of {path.name}"
        raise UserError(f"the tests call {which}; name the one to time with --entry")
    return called.pop()


def load_task(path: Path, lang: str, tests: str, entry: str | None = None, inputs: Path | None = None) -> CodeTask:
    """Check what can be checked without running anything. A Python task without `entry` gets the function its
    tests call. Raises UserError with a one-line reason."""
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
    if lang == "python" and not entry:
        task = replace(task, entry=find_entry(task.path, task.tests_path))
    if inputs and not inputs.is_file():
        raise UserError(f"no such inputs file: {inputs}")
    if lang == "cpp":
        compiler()
        if task.tests_path is None or not task.test_inputs():
            raise UserError(f"C++ tests must be a directory of *.in files or one input file: {tests}")
        if entry:
            raise UserError("--entry applies to Python only; a C++ program is run as a whole")
    return task
