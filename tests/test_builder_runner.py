"""The tuner's builder and runner: their worker processes belong to the process, not to one tune, so a bench or a
script that tunes several workloads starts them once (LocalRunner alone waits seconds for its worker to import
TVM before it measures anything)."""

import time

from litecoop.measure.builder_runner import TimedBuilder, TimedRunner


def test_tunes_in_one_process_share_their_build_and_run_workers():
    start = time.perf_counter()
    runner = TimedRunner(timeout_s=29)  # a timeout no other test uses: this one starts its worker
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    again = TimedRunner(timeout_s=29)
    again_s = time.perf_counter() - start
    assert again.inner is runner.inner and again_s < first_s / 10, (first_s, again_s)
    assert TimedBuilder().pool is TimedBuilder().pool
