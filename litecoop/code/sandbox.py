"""Run untrusted candidate code: a subprocess with resource limits, no network and a read-only filesystem.

Isolation, strongest available first (probed once per process):
- Linux namespaces via util-linux `unshare` (user, network, pid, mount): the root filesystem is re-mounted
  read-only and only the sandbox's work dir is writable; killing the namespace's first process kills
  every process it started.
- a pids cgroup (v1 or v2) caps the number of processes (fork bombs), else RLIMIT_NPROC;
- rlimits: CPU seconds, address space, file size, open files; a wall-clock timeout kills the session.
The environment is minimal: PATH, HOME and TMPDIR inside the work dir, LANG.
"""

from __future__ import annotations

import functools
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

# Re-mount / read-only under $1, bind the work dir $2 writable at its own path, chroot, run the rest.
_JAIL = ('set -e; r="$1"; w="$2"; shift 2; mount --rbind / "$r"; mount -o remount,bind,ro "$r"; '
         'mount --bind "$w" "$r$w"; exec chroot "$r" /bin/sh -c \'cd "$0" && exec "$@"\' "$w" "$@"')


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


@functools.cache
def namespaces_available() -> bool:
    """True if `unshare` can create user, network, pid and mount namespaces and chroot here."""
    probe = Path(f"/tmp/litecoop-probe-{os.getpid()}")
    (probe / "root").mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(["unshare", "-rnpm", "--fork", "--mount-proc", "/bin/sh", "-c", _JAIL, "sh",
                                 str(probe / "root"), str(probe), "/bin/true"], capture_output=True, timeout=20)
        return result.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
    finally:
        (probe / "root").rmdir()
        probe.rmdir()


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


def isolation() -> str:
    """One line naming the isolation in force, for reports."""
    parts = ["namespaces (no network, read-only /)" if namespaces_available() else "no namespaces",
             "pids cgroup" if _pids_cgroup_root() else "RLIMIT_NPROC", "rlimits cpu/as/fsize"]
    return ", ".join(parts)


def _limit_child(limits: Limits, cgroup: Path | None):
    def apply():
        os.setsid()
        if cgroup:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))
        else:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    return apply


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


def run(argv: list[str], work_dir: Path, limits: Limits = Limits(), stdin: Path | None = None) -> Outcome:
    """Run `argv` inside `work_dir` (which must be under /tmp or another writable mount) in the sandbox.

    `stdin` is a file fed to the command. Never raises for what the command does: a timeout, a signal
    or a non-zero exit becomes `Outcome.failure`.
    """
    work_dir = work_dir.resolve()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(work_dir),
           "TMPDIR": str(work_dir), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    command = list(argv)
    if namespaces_available():
        jail_root = work_dir / ".jail-root"
        jail_root.mkdir(exist_ok=True)
        command = ["unshare", "-rnpm", "--fork", "--kill-child", "--mount-proc", "/bin/sh", "-c", _JAIL, "sh",
                   str(jail_root), str(work_dir), *argv]
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
            failure = None if process.returncode == 0 else _describe_failure(
                process.returncode, err.decode(errors="replace"), limits, _children_cpu_s() - cpu_start)
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
