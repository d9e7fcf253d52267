"""One tuning run: configuration, the task scheduler loop, and the run from options to report."""
