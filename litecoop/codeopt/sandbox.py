"""Run untrusted candidate code: a subprocess in a bubblewrap sandbox with resource limits.

Isolation (`available()` probes it once per process):
- bubblewrap (`bwrap`): the whole filesystem bound read-only, recursively (every mount under `/`), a private
  `/tmp` and `/dev`, new user, pid, network, IPC and UTS namespaces (no network at all), every capability
  dropped, `/proc/sys` read-only and `/run` (system sockets) hidden; only the work dir is writable. The
  sandbox dies with its parent. (Run by root, its processes still own root's files; they can only read them.)
- a pids cgroup (v1 or v2) caps the number of processes (fork bombs), else RLIMIT_NPROC;
- rlimits: CPU seconds, address space, file size, open files; a wall-clock timeout kills the session.
The environment is minimal: PATH, HOME and TMPDIR in the work dir, LANG.
Without bubblewrap, `run(..., isolated=False)` runs with the limits only (the user's `--no-sandbox`).
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from litecoop.errors import UserError


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed command: seconds of wall and CPU time, bytes, processes."""

    wall_s: float = 60.0
    cpu_s: int = 60
    memory_bytes: int = 2 << 30
    file_bytes: int = 64 << 20
    processes: int = 64


@dataclass
class Outcome:
    """What a sandboxed command did. `failure` is None for exit code 0, else a one-line reason."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    failure: str | None


def _bwrap_argv(work_dir: Path, visible: tuple[Path, ...], limits: Limits) -> list[str]:
    """bwrap's arguments: `/` read-only, `visible` dirs read-only and `work_dir` writable at their own paths."""
    binds = [arg for path in visible for arg in ("--ro-bind", str(path), str(path))]
    return ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--ro-bind-try", "/proc/sys", "/proc/sys",
            "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger", "--tmpfs", "/run", "--size", str(limits.file_bytes),
            "--tmpfs", "/tmp", *binds, "--bind", str(work_dir), str(work_dir), "--unshare-all", "--unshare-user",
            "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--chdir", str(work_dir), "--"]


@functools.cache
def available() -> bool:
    """True if bubblewrap can build the sandbox here (installed, user namespaces allowed)."""
    if not shutil.which("bwrap"):
        return False
    with tempfile.TemporaryDirectory(prefix="litecoop-probe-") as probe:
        outcome = run(["/bin/sh", "-c", "touch ok"], Path(probe), Limits(wall_s=20, cpu_s=20))
        return outcome.failure is None and (Path(probe) / "ok").exists()


def require(isolated: bool) -> None:
    """Raise UserError if `isolated` is asked for and no sandbox works here."""
    if isolated and not available():
        raise UserError("no working sandbox for generated code (install bubblewrap: apt-get install bubblewrap); "
                        "pass --no-sandbox to run it without one")


def isolation(isolated: bool = True) -> str:
    """One line naming the isolation in force, for reports."""
    parts = ["bubblewrap (read-only /, private /tmp, no network, no capabilities)" if isolated else "NO SANDBOX",
             "pids cgroup" if _pids_cgroup_root() else "RLIMIT_NPROC", "rlimits cpu/as/fsize"]
    return ", ".join(parts)


def _limit_child(limits: Limits, cgroup: Path | None):
    def apply():
        os.setsid()
        if cgroup:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        if not cgroup:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    return apply


@functools.cache
def _pids_cgroup_root() -> Path | None:
    """A writable cgroup directory with the pids controller (v1 or v2), or None."""
    for root in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        probe = root / f"litecoop-probe-{os.getpid()}"
        try:
            probe.mkdir()
        except OSError:
            continue
        usable = (probe / "pids.max").exists()
        probe.rmdir()
        if usable:
            return root
    return None


def _kill_group(process: subprocess.Popen, cgroup: Path | None) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if cgroup:
        for pid in (cgroup / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def _describe_failure(returncode: int, stderr: str, limits: Limits, cpu_s: float) -> str:
    if cpu_s >= limits.cpu_s:
        return f"terminated: CPU time limit ({limits.cpu_s} s)"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        reason = {"SIGXCPU": f"CPU time limit ({limits.cpu_s} s)", "SIGXFSZ": "file size limit",
                  "SIGKILL": "killed (memory or process limit)"}.get(name, name)
        return f"terminated: {reason}"
    last = next((line for line in reversed(stderr.strip().splitlines()) if line.strip()), "")
    if "MemoryError" in stderr or "std::bad_alloc" in stderr:
        return f"memory limit ({limits.memory_bytes >> 20} MiB)"
    return f"exit code {returncode}: {last[:200]}"


def run(argv: list[str], work_dir: Path, limits: Limits = Limits(), stdin: Path | None = None,
        visible: tuple[Path, ...] = (), isolated: bool = True) -> Outcome:
    """Run `argv` in `work_dir`, the only writable directory; `visible` directories can be read too.

    `stdin` is a file fed to the command. `isolated=False` runs without bubblewrap (limits only). Never
    raises for what the command does: a timeout, a signal or a non-zero exit becomes `Outcome.failure`.
    """
    work_dir = work_dir.resolve()
    visible = tuple(path.resolve() for path in (*visible, *_interpreter_under_tmp()))
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(work_dir),
           "TMPDIR": str(work_dir), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    command = [*_bwrap_argv(work_dir, visible, limits), *argv] if isolated else list(argv)
    cgroup_root = _pids_cgroup_root()
    cgroup = None
    if cgroup_root:
        cgroup = cgroup_root / f"litecoop-{uuid.uuid4().hex[:12]}"
        cgroup.mkdir()
        (cgroup / "pids.max").write_text(str(limits.processes))
    start, cpu_start = time.perf_counter(), _children_cpu_s()
    with open(stdin or os.devnull, "rb") as stream:
        process = subprocess.Popen(command, cwd=work_dir, env=env, stdin=stream, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, preexec_fn=_limit_child(limits, cgroup))
        try:
            out, err = process.communicate(timeout=limits.wall_s)
            # bwrap exits with 128 + N when its command was killed by signal N
            code = 128 - process.returncode if isolated and process.returncode > 128 else process.returncode
            failure = None if code == 0 else _describe_failure(code, err.decode(errors="replace"), limits,
                                                               _children_cpu_s() - cpu_start)
        except subprocess.TimeoutExpired:
            _kill_group(process, cgroup)
            out, err = process.communicate()
            failure = f"terminated: wall time limit ({limits.wall_s:g} s)"
        finally:
            _kill_group(process, cgroup)
            if cgroup:
                _remove_cgroup(cgroup)
    return Outcome(process.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                   time.perf_counter() - start, failure)


def _interpreter_under_tmp() -> set[Path]:
    """This Python's installation (its venv and base prefix) where it lies under /tmp, which the sandbox replaces
    with a private /tmp: bound read-only at its own path, a venv under /tmp runs sandboxed code too."""
    homes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent}
    return {home for home in homes if home.is_relative_to("/tmp")}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _remove_cgroup(cgroup: Path) -> None:
    for _ in range(50):
        try:
            cgroup.rmdir()
            return
        except OSError:
            time.sleep(0.05)
