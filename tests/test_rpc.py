"""Measurement through TVM's RPC tracker and two servers on loopback; one server dies mid-run."""

import os
import signal
import subprocess
import sys
import time

import pytest
from tvm import rpc

from conftest import free_port
from test_tune import litecoop, records

pytestmark = pytest.mark.slow  # an RPC tracker, servers and a real tune

HOST_PRESET = """\
kind = "llvm"
mtriple = "x86_64-linux-gnu"
mcpu = "detect"
num-cores = "detect"

[rpc]
tracker_host = "127.0.0.1"
tracker_port = {port}
device_key = "litecoop-test"
session_timeout_s = 30
"""


def registered(port: int) -> int | None:
    """How many servers the tracker lists, or None while it does not answer."""
    try:
        return len(rpc.connect_tracker("127.0.0.1", port).summary()["server_info"])
    except (RuntimeError, OSError):
        return None


def wait_for(condition, timeout_s: float = 180) -> None:
    deadline = time.time() + timeout_s
    while not condition():
        assert time.time() < deadline, "RPC tracker or servers did not come up"
        time.sleep(0.5)


def start(*args, log):
    return subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


@pytest.fixture(scope="module")
def rpc_pool(tmp_path_factory):
    """A tracker and two servers registered under one device key; yields (tracker port, servers, logs). Shared by
    the module's tests (~18 s to start): a test may kill a server, and the next ones need only the tracker."""
    tmp_path = tmp_path_factory.mktemp("rpc")
    port = free_port()
    procs = [start("tvm.exec.rpc_tracker", "--host", "127.0.0.1", "--port", str(port), "--port-end", str(port + 1),
                   log=(tmp_path / "tracker.log").open("w"))]
    wait_for(lambda: registered(port) is not None)
    logs = [tmp_path / f"server{i}.log" for i in range(2)]
    server_ports = [free_port() for _ in logs]
    servers = [start("tvm.exec.rpc_server", "--tracker", f"127.0.0.1:{port}", "--key", "litecoop-test", "--host",
                     "127.0.0.1", "--port", str(p), "--port-end", str(p + 1), log=path.open("w"))
               for p, path in zip(server_ports, logs)]
    procs += servers
    wait_for(lambda: registered(port) == 2)
    yield port, servers, logs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def sessions(log) -> int:
    return log.read_text().count("load_module")


def test_tune_through_rpc_survives_a_dead_server(tmp_path, rpc_pool):
    port, servers, logs = rpc_pool
    preset = tmp_path / "rpc-host.toml"
    preset.write_text(HOST_PRESET.format(port=port))
    work_dir = tmp_path / "w"
    proc = litecoop("--strategy", "mcts", "--trials", "16", "--target", str(preset), "--work-dir", str(work_dir))
    deadline = time.time() + 600
    while len(records(work_dir)) < 8 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(servers[0].pid, signal.SIGKILL)
    kept = records(work_dir)
    served_by_survivor = sessions(logs[1])
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    final = records(work_dir)
    assert final[: len(kept)] == kept and len(final) >= 16
    assert sessions(logs[1]) > served_by_survivor  # the rest of the run was measured on the other server


def test_no_server_for_the_key_is_a_user_error(tmp_path, rpc_pool):
    port, _, _ = rpc_pool
    preset = tmp_path / "rpc-host.toml"
    preset.write_text(HOST_PRESET.format(port=port).replace('"litecoop-test"', '"no-such-device"'))
    proc = litecoop("--strategy", "mcts", "--trials", "8", "--target", str(preset), "--work-dir", str(tmp_path / "w"))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2 and "no RPC server with key 'no-such-device'" in err
