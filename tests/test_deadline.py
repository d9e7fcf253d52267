"""The time budget's deadline (`measure.timing.Deadline`): how many trials a batch may hold."""

import time

from litecoop.measure.timing import Deadline


def test_before_any_pace_is_known_a_first_round_over_many_tasks_fits_half_the_budget():
    deadline = Deadline(180.0, tasks=44)  # ResNet-50: 44 tasks, a 3-minute budget
    deadline.start()
    assert deadline.trials_that_fit(16) == 2  # 44 x 2 trials at ~1 s: within half of 180 s
    roomy = Deadline(1800.0, tasks=20)
    roomy.start()
    assert roomy.trials_that_fit(16) == 16


def test_once_the_budget_is_spent_no_trial_fits_even_without_a_pace():
    deadline = Deadline(0.05, tasks=3)
    deadline.start()
    time.sleep(0.06)
    assert deadline.trials_that_fit(16) == 0


def test_with_a_pace_a_batch_holds_what_fits_in_the_time_left():
    deadline = Deadline(10.0, tasks=3)
    deadline.start()
    deadline.record(batch_s=8.0, trials=4)  # 2 s per trial
    assert deadline.trials_that_fit(16) in (4, 5)
    assert Deadline(None, tasks=50).trials_that_fit(16) == 16  # no budget: no cap
