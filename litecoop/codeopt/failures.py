"""Why a candidate failed, in one line: the failing test, the compiler's error, where two outputs differ, caching."""

import numpy as np

CACHE_RATIO = 2.0  # a second call on one input this much faster than the first (beyond the original's gain) is caching


def failing_test(output: str) -> str:
    """The first failing test and its message from pytest's short summary ("FAILED test_x.py::test_y - assert
    1 == 2"), else the output's last line; at most 200 characters. "" for empty output."""
    lines = output.strip().splitlines()
    summary = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return (summary or lines[-1:] or [""])[0][:200]


def compile_error(stderr: str) -> str:
    """The compiler's first "error:" line (g++/clang++), else its first line; at most 200 characters."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if "error:" in line]
    return (errors or lines[:1] or [""])[0][:200]


def first_difference(expected: str, got: str) -> str:
    """Where two whitespace-separated outputs first differ, e.g. "token 3: expected '7', got '8'"."""
    want, have = expected.split(), got.split()
    index = next((i for i, (a, b) in enumerate(zip(want, have)) if a != b), min(len(want), len(have)))
    want_s, have_s = (repr(tokens[index][:40]) if index < len(tokens) else "end of output" for tokens in (want, have))
    return f"token {index + 1}: expected {want_s}, got {have_s}"


def caching(samples: dict[str, list[float]]) -> str | None:
    """A one-line verdict if the candidate's second call on one input is CACHE_RATIO x faster than its first,
    beyond the original's own gain (a cache a user calling on new inputs never hits), else None."""
    if "candidate_again" not in samples:
        return None
    gain = {side: float(np.median(samples[side]) / np.median(samples[f"{side}_again"])) for side in ("original", "candidate")}
    if gain["candidate"] < CACHE_RATIO * max(1.0, gain["original"]):
        return None
    return (f"caching: a second call on the same input is {gain['candidate']:.3g}x faster than the first "
            f"(the original's: {gain['original']:.2g}x); not counted")
