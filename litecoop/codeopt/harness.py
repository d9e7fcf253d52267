"""Measurement harness that runs *inside* the sandbox (standard library only; prints one JSON line).

python harness.py MODE '<json arguments>'

- validate: the input generator and the original work at every size and seed of the output check (the
  original returns, and returns the same value twice); else a one-line problem naming the size.
- calibrate: the smallest input size (doubling from 16) at which the original entry takes >= target_s.
- check: the candidate's outputs equal the original's on generated inputs (several sizes and seeds),
  including raising the same exception type.
- time: `repeat` repetitions, each in a fresh process (so no state a function keeps between calls
  survives: module globals, default arguments, caches) on a fresh input (seed = repetition + 1, the same for
  both sides): the first call of original and candidate, order alternating, then a second call of each on
  the same input (`*_again`: a function far faster the second time caches its answers). Seconds per call.
- profile: cProfile's top functions by own time, and the lines where the original spends its time
  (a sys.settrace line timer on an input 1/8 the size).
- time-commands: interleaved wall times (seconds) of two commands, each {"argv", "cwd"}, both fed this
  process's stdin.

Inputs come from `make_inputs(size, seed) -> tuple` in the user's inputs file, or are generated from the
entry's type hints (int, float, bool, str, list/tuple/set/dict of those, nested).
"""

import copy
import cProfile
import importlib.util
import io
import json
import math
import pstats
import random
import subprocess
import sys
import time
import typing
from collections import Counter
from pathlib import Path


def load(path, name):
    """Import the file at `path` as module `name`, its directory put first on sys.path; returns the module."""
    sys.path.insert(0, str(Path(path).parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(hint, size, rng):
    """A random value of type `hint`: ints in [0, size], floats in [-1, 1], collections of `size` elements
    (sqrt(size) if their elements are collections). Raises TypeError for any other type."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    inner = max(1, int(math.sqrt(size)))
    if hint is int:
        return rng.randint(0, max(1, size))
    if hint is float:
        return rng.uniform(-1.0, 1.0)
    if hint is bool:
        return rng.random() < 0.5
    if hint is str:
        return "".join(rng.choice("abcdefghij ") for _ in range(rng.randint(0, 12)))
    if origin in (list, set, frozenset):
        element = args[0] if args else int
        length = inner if typing.get_origin(element) in (list, tuple, dict, set) else size
        return origin(generate(element, size, rng) for _ in range(length))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(generate(args[0], size, rng) for _ in range(size))
        return tuple(generate(a, size, rng) for a in args)
    if origin is dict:
        return {generate(args[0], size, rng): generate(args[1], size, rng) for _ in range(size)}
    raise TypeError(f"cannot generate inputs for type {hint!r}; give --inputs FILE with make_inputs(size, seed)")


def input_maker(entry, inputs_path):
    """`make_inputs(size, seed) -> tuple` from the inputs file if given, else one built from `entry`'s type hints.
    Raises TypeError if there is no inputs file and `entry` has no parameter hints."""
    if inputs_path:
        return load(inputs_path, "litecoop_inputs").make_inputs
    hints = typing.get_type_hints(entry)
    hints.pop("return", None)
    if not hints:
        raise TypeError(f"entry '{entry.__name__}' has no type hints; give --inputs FILE with make_inputs(size, seed)")
    return lambda size, seed: tuple(generate(h, size, random.Random(seed)) for h in hints.values())


def equal(a, b):
    """Deep equality that also requires equal types (list is not tuple); floats match within rel 1e-7 / abs 1e-9,
    and NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def outcome(function, args):
    """("value", result) of `function` on a deep copy of `args`, or ("raises", the exception's type name)."""
    try:
        return "value", function(*copy.deepcopy(args))
    except Exception as err:  # the original's exceptions are part of its behaviour
        return "raises", type(err).__name__


def entries(a):
    """(original entry, candidate entry or None, input maker) loaded from the files named in the arguments `a`."""
    original = getattr(load(a["original"], "litecoop_original"), a["entry"])
    candidate = getattr(load(a["candidate"], "litecoop_candidate"), a["entry"]) if a.get("candidate") else None
    return original, candidate, input_maker(original, a.get("inputs"))


def attempt(function, *args):
    """(value, None) if `function(*args)` returns, else (None, its exception as one line)."""
    try:
        return function(*args), None
    except Exception as err:
        return None, f"{type(err).__name__}: {str(err)[:120]}"


def validate(a):
    """Mode validate: {"problem": None}, or one line naming the size and seed where the input generator fails,
    the original raises, or the original returns different values for the same input."""
    original, _, make = entries(a)
    for size in a["sizes"]:
        for seed in range(a["seeds"]):
            where = f"size {size} (seed {seed})"
            args, problem = attempt(make, size, seed)
            if problem:
                return {"problem": f"the input generator fails at {where}: {problem}"}
            first, problem = attempt(original, *copy.deepcopy(args))
            if problem:
                return {"problem": f"the original raises at {where} on generated inputs: {problem}"}
            if not equal(first, original(*copy.deepcopy(args))):
                return {"problem": f"the original returns different values for the same input at {where}"}
    return {"problem": None}


def calibrate(a):
    """Mode calibrate: {"size", "problem"}: the first size, doubling from 16, at which one call of the original on
    the seed-0 input takes >= `target_s` seconds, else the first >= `max_size` (default 2**20); "problem" on failure."""
    original, _, make = entries(a)
    size = 16
    while size < a.get("max_size", 1 << 20):
        args, problem = attempt(make, size, 0)
        start = time.perf_counter()
        if not problem:
            _, problem = attempt(original, *args)
        if problem:
            return {"size": size, "problem": f"at size {size} (seed 0), the timing input: {problem}"}
        if time.perf_counter() - start >= a["target_s"]:
            break
        size *= 2
    return {"size": size, "problem": None}


def check(a):
    """Mode check: {"ok", "detail"}: whether the candidate returns what the original returns (or raises the same
    exception type) at every size and seed; `detail` describes the first mismatch."""
    original, candidate, make = entries(a)
    for size in a["sizes"]:
        for seed in range(a["seeds"]):
            args = make(size, seed)
            expected, got = outcome(original, args), outcome(candidate, args)
            if expected[0] != got[0] or not equal(expected[1], got[1]):
                shown = lambda o: f"{o[0]} {repr(o[1])[:80]}"  # noqa: E731
                return {"ok": False, "detail": f"size {size} seed {seed}: expected {shown(expected)}, got {shown(got)}"}
    return {"ok": True, "detail": ""}


def seconds(function, args):
    """Wall seconds (perf_counter) of one call of `function` on a deep copy of `args` (the copy is not timed)."""
    fresh = copy.deepcopy(args)
    start = time.perf_counter()
    function(*fresh)
    return time.perf_counter() - start


def time_once(a):
    """Mode time-once: seconds of the first call of original and candidate (order swapped on odd seeds) on the input
    of `size` and `seed`, then of a second call of each on the same input (`original_again`, `candidate_again`)."""
    original, candidate, make = entries(a)
    args = make(a["size"], a["seed"])
    order = [("original", original), ("candidate", candidate)]
    first = {side: seconds(function, args) for side, function in (order[::-1] if a["seed"] % 2 else order)}
    return first | {f"{side}_again": seconds(function, args) for side, function in order}


def time_calls(a):
    """Mode time: side (`*_again` included) -> seconds per call, one sample per run of time-once: `repeat` runs,
    each a fresh process with seed = run + 1. Raises SystemExit with the last line of a failed run's stderr."""
    samples = {}
    for r in range(a["repeat"]):
        done = subprocess.run([sys.executable, __file__, "time-once", json.dumps(a | {"seed": r + 1})],
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit((done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1])
        for side, value in json.loads(done.stdout.strip().splitlines()[-1]).items():
            samples.setdefault(side, []).append(value)
    return samples


def profile(a):
    """Mode profile: {"functions": cProfile's top functions by own time, "lines": [line number, share of time, text]}
    for the original's 5 slowest lines, timed with sys.settrace on an input 1/8 the size."""
    original, _, make = entries(a)
    args = make(a["size"], 0)
    profiler = cProfile.Profile()
    profiler.runcall(original, *copy.deepcopy(args))
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(6)
    root = str(Path(a["original"]).parent) + "/"
    functions = [line.strip().replace(root, "") for line in stream.getvalue().splitlines() if "(" in line]
    spent = Counter()
    source = str(Path(a["original"]).resolve())
    last = [None, 0.0]

    def tracer(frame, event, _):
        if frame.f_code.co_filename == source and event == "line":
            now = time.perf_counter()
            if last[0]:
                spent[last[0]] += now - last[1]
            last[:] = [frame.f_lineno, now]
        return tracer
    small = make(max(1, a["size"] // 8), 0)
    sys.settrace(tracer)
    try:
        original(*small)
    finally:
        sys.settrace(None)
    lines = Path(source).read_text().splitlines()
    total = sum(spent.values()) or 1.0
    return {"functions": functions[1:],
            "lines": [[n, share / total, lines[n - 1].strip()] for n, share in spent.most_common(5)]}


def time_commands(a):
    """Mode time-commands: side -> wall seconds of `repeat` runs each of the two commands, order alternating, after
    one warm-up round, all fed this process's stdin. Raises CalledProcessError if a command fails."""
    samples = {"original": [], "candidate": []}
    stdin = sys.stdin.buffer.read()
    for r in range(a["repeat"] + 1):
        for side in ("original", "candidate") if r % 2 == 0 else ("candidate", "original"):
            start = time.perf_counter()
            subprocess.run(a[side]["argv"], cwd=a[side]["cwd"], input=stdin, stdout=subprocess.DEVNULL, check=True)
            if r:  # the first round warms the page cache
                samples[side].append(time.perf_counter() - start)
    return samples


if __name__ == "__main__":
    mode, arguments = sys.argv[1], json.loads(sys.argv[2])
    modes = {"validate": validate, "calibrate": calibrate, "check": check, "time": time_calls, "time-once": time_once,
             "profile": profile, "time-commands": time_commands}
    print(json.dumps(modes[mode](arguments)))
