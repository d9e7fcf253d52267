"""How a benchmark publishes into its results folder: a Markdown page that starts with the command that made it, and
claims.json, each claim it measured with its number, command and commit (benchmarks/make_results.py gathers every
folder's claims into results/RESULTS.md)."""

import json
import sys
from pathlib import Path

from litecoop.report.provenance import commit


def command_line() -> str:
    """This benchmark's command line as it was run, e.g. "python benchmarks/search_ab.py --a default ..."."""
    return " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])


def publish(out: Path, page: str, body: str, claims: list[dict], keep_existing=lambda claim: False) -> None:
    """Write out/`page` ("Command: `...`" then `body`, Markdown) and out/claims.json: `claims` ({"claim", "number"},
    optionally "commit"), each given this command line and, unless it names one, this checkout's commit; claims
    already in the file for which `keep_existing(claim)` is true stay (a benchmark that writes one model's claim at a
    time keeps the others'). Prints `body`."""
    out.mkdir(parents=True, exist_ok=True)
    command, at = command_line(), commit()
    (out / page).write_text(f"Command: `{command}`\n\n{body}\n")
    path = out / "claims.json"
    kept = [claim for claim in (json.loads(path.read_text()) if path.is_file() else []) if keep_existing(claim)]
    stamped = [{"command": command, "commit": at, **claim} for claim in claims]
    path.write_text(json.dumps(kept + stamped, indent=1) + "\n")
    print(body)
