import json
import random

LEVELS = {
    "debug": ["debug", "dbg", "trace", "verbose", "fine", "finer", "finest", "d"],
    "info": ["info", "inf", "information", "notice", "i", "status", "ok"],
    "warning": ["warn", "warning", "wrn", "w", "caution", "deprecated"],
    "error": ["error", "err", "e", "fail", "failure", "exception", "severe"],
    "critical": ["critical", "crit", "fatal", "panic", "emerg", "emergency", "alert"],
}
FIELD_NAMES = ["timestamp", "host", "service", "pid", "thread", "level", "request_id",
               "user", "path", "status", "latency_ms", "bytes", "region", "message"]


def make_inputs(size: int, seed: int) -> tuple:
    rng = random.Random(seed)
    schema = {
        "version": 3,
        "source": {"agent": "log-collector", "encoding": "utf-8", "delimiter": "tab"},
        "fields": [
            {
                "name": n,
                "type": "str",
                "nullable": False,
                "max_length": 4096,
                "format": "plain",
                "description": f"{n} column as emitted by the log collector agent",
                "tags": ["indexed", "searchable"],
            }
            for n in FIELD_NAMES
        ],
        "levels": LEVELS,
    }
    header = json.dumps(schema)
    aliases = [a for group in LEVELS.values() for a in group] + ["bogus"]
    services = [f"svc-{i}" for i in range(12)]
    lines = []
    for i in range(size):
        values = [f"2024-01-01T00:{i % 60:02d}:00", f"host{rng.randrange(8)}",
                  rng.choice(services), str(rng.randrange(1, 60000)), f"t{rng.randrange(16)}",
                  rng.choice(aliases).upper() if rng.random() < 0.3 else rng.choice(aliases),
                  f"req-{rng.getrandbits(32):08x}", f"u{rng.randrange(500)}",
                  f"/api/v1/items/{rng.randrange(1000)}", str(rng.choice([200, 201, 404, 500])),
                  str(rng.randrange(1, 900)), str(rng.randrange(100, 90000)),
                  rng.choice(["eu", "us", "ap"]), "request handled"]
        if rng.random() < 0.05:
            values = values[:-2]
        lines.append("\t".join(values) + "\n")
    return (header, lines)
