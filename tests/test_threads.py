"""Tuned kernels and their peers run on the same number of CPU threads: TVM's pool on every core this process
may use (TVM alone would take half the hardware threads on x86), unless the user set TVM_NUM_THREADS."""

import os
import subprocess
import sys

PROBE = "import litecoop, tvm; from litecoop.tuning import run; print(tvm.get_global_func('runtime.NumThreads')(), run.THREADS)"


def threads_in_fresh_process(**env) -> list[int]:
    environment = {k: v for k, v in os.environ.items() if k != "TVM_NUM_THREADS"} | env
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    return [int(n) for n in result.stdout.split()]


def test_tvm_runs_on_every_core_and_the_peers_on_as_many():
    cores = len(os.sched_getaffinity(0))
    assert threads_in_fresh_process() == [cores, cores]


def test_a_thread_count_the_user_set_is_kept_for_tvm_and_the_peers():
    assert threads_in_fresh_process(TVM_NUM_THREADS="1") == [1, 1]
