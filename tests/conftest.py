"""Shared fixtures: a real TVM design space of a small matmul, and a real 16-trial tune of the small
workload, each made once per session; every test (and the session's fixtures) gets a LITECOOP_CACHE of its
own, so records kept across runs never leak between tests or from the user's cache."""

import contextlib
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tvm import relax
from tvm.s_tir import meta_schedule as ms
from tvm.script import relax as R

from litecoop.targets import load_target
from litecoop.build.intrinsics import import_tensor_intrinsics
from litecoop.build.compiler import fuse


USER_MODELS = Path(os.environ.get("LITECOOP_CACHE", Path.home() / ".cache" / "litecoop")) / "models"


def isolated_cache(root: Path) -> Path:
    """A LITECOOP_CACHE at `root` with no records, sharing the user's assembled model weights (a symlink)."""
    root.mkdir(parents=True, exist_ok=True)
    USER_MODELS.mkdir(parents=True, exist_ok=True)
    (root / "models").symlink_to(USER_MODELS)
    return root


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory) -> Path:
    """The cache of the session-scoped fixtures (set before them: autouse comes first in its scope), holding
    this machine's roofline, measured once without waiting for an idle machine: tests keep it busy."""
    from litecoop.measure.roofline import machine_limits

    patch = pytest.MonkeyPatch()
    path = isolated_cache(tmp_path_factory.mktemp("session-cache"))
    patch.setenv("LITECOOP_CACHE", str(path))
    machine_limits(idle_wait_s=0)
    yield path
    patch.undo()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch, session_cache) -> Path:
    """This test's own LITECOOP_CACHE (subprocesses inherit it), with the session's roofline (a symlink)."""
    path = isolated_cache(tmp_path / "litecoop-cache")
    (path / "roofline.json").symlink_to(session_cache / "roofline.json")
    monkeypatch.setenv("LITECOOP_CACHE", str(path))
    return path


@pytest.fixture(scope="session")
def target():
    return load_target("host")


def build_matmul_context(target, rows: int, dtype: str = "float32"):
    """TuneContext of a (1,rows,256) x (256,128) matmul: the deepseek_moe shape scaled down."""
    bb = relax.BlockBuilder()
    a = relax.Var("a", R.Tensor((1, rows, 256), dtype))
    b = relax.Var("b", R.Tensor((256, 128), dtype))
    with bb.function("main", [a, b]):
        with bb.dataflow():
            out = bb.emit_output(bb.emit(relax.op.matmul(a, b)))
        bb.emit_func_output(out)
    tasks = ms.relax_integration.extract_tasks(fuse(bb.get(), target), target)
    task = next(t for t in tasks if "matmul" in t.task_name)
    import_tensor_intrinsics(target)
    return ms.TuneContext(mod=task.dispatched[0], target=target, space_generator="post-order-apply",
                          search_strategy="replay-trace", num_threads=2)


@pytest.fixture(scope="session")
def matmul_context(target):
    """The CPU context of a 16-row matmul and its design space."""
    context = build_matmul_context(target, 16)
    return context, context.generate_design_space()


@pytest.fixture(scope="session")
def cuda_matmul_context():
    """The CUDA (sm_90) context of a 64-row matmul and its design space (no GPU needed)."""
    context = build_matmul_context(load_target("cuda-sm90"), 64)
    return context, context.generate_design_space()



def free_port() -> int:
    """A TCP port on loopback that no one listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    """`litecoop ARGS` through the command line's own entry point, in this process (no interpreter and TVM
    start-up per call, ~6 s each), with `env` set while it runs: its exit code and what it wrote to stderr (stdout
    is not captured). Tests of what only a process shows (a signal, an installed copy) start one themselves."""
    from litecoop import cli

    stderr, code = io.StringIO(), 0
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(stderr):
        patch.setattr(cli.console, "width", 200)  # as a wide terminal: no line breaks inside the messages
        patch.setattr(sys, "argv", ["litecoop", *args])  # the command that the reports' provenance records
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        try:
            cli.main(list(args))
        except SystemExit as exit_:
            code = exit_.code
    return subprocess.CompletedProcess(["litecoop", *args], code, "", stderr.getvalue())


@pytest.fixture(scope="session")
def small_mcts_run(tmp_path_factory):
    """(work dir, report path) of `litecoop tune` on small_workload:make, mcts, 16 trials. Read-only:
    copy it before changing anything."""
    root = tmp_path_factory.mktemp("small_mcts")
    work_dir, report = root / "work", root / "report.json"
    tuned = run_cli("tune", "--workload", "small_workload:make", "--strategy", "mcts", "--trials", "16", "--no-peers",
                    "--search", "smoke", "--work-dir", str(work_dir), "--json", str(report))
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    return work_dir, report
