"""The one exception type that the command line turns into a one-line error and exit code 2."""


class UserError(Exception):
    """A mistake in what the user asked for (bad workload, target, file, option), not a bug."""
