"""A model tuned at each precision for the same search budget, each run's final timing against every peer (in a
fresh process, alternated, same threads), with every contender's accuracy against torch's float32 output; then
all the tuned builds and every peer timed again together in one such series (runs minutes apart see a machine
whose speed drifts by up to 25% here).

    python benchmarks/precision.py --workload minilm --time-budget 10m --out results/precision

Each run is `litecoop tune --precision P --fresh --json` (its report kept under --out/runs: a rerun resumes).
Writes precision.md (one row per contender: precision, latency, max and mean abs error, cosine) and claims.json
into --out.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from tabulate import tabulate

from litecoop.api import duration_s


def tune(spec: str, precision: str, budget_s: float, out: Path) -> dict:
    """The report of `litecoop tune` of `spec` in `precision`, run unless its report is already under `out/runs`."""
    work_dir = out / "runs" / f"{spec.replace(':', '-')}-{precision}"
    report = work_dir.with_suffix(".json")
    if not report.is_file():
        subprocess.run([sys.executable, "-m", "litecoop.cli", "tune", "--workload", spec, "--precision", precision,
                        "--time-budget", f"{budget_s:g}s", "--fresh", "--work-dir", str(work_dir), "--json",
                        str(report)], check=True)
    return json.loads(report.read_text())


def peers_at(precision: str) -> str:
    """The precisions a build in `precision` is compared with, in words: "fp32", "fp32 or bf16"."""
    return " or ".join(dict.fromkeys(("fp32", precision)))


def rows_of(contenders: list[dict]) -> list[list[str]]:
    """One table row per contender (a report's peer entry, or one shaped like it)."""
    rows = []
    for c in contenders:
        number = lambda key, form: format(c[key], form) if c.get(key) is not None else "-"  # noqa: E731
        rows.append([c["name"], c["precision"], number("latency_s", ".4f") if c["reason"] is None else c["reason"][:60],
                     number("max_abs_error", ".1e"), number("mean_abs_error", ".1e"), number("cosine", ".6f")])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="minilm")
    parser.add_argument("--time-budget", default="10m")
    parser.add_argument("--precisions", default="fp32,bf16,int8")
    parser.add_argument("--out", type=Path, default=Path("results/precision"))
    args = parser.parse_args()
    budget_s = duration_s(args.time_budget)
    reports = {p: tune(args.workload, p, budget_s, args.out) for p in args.precisions.split(",")}
    command = "python benchmarks/precision.py " + " ".join(sys.argv[1:])
    sections, claims = [f"Command: `{command}`\n"], []
    headers = ["contender", "precision", "latency s", "max abs error", "mean abs error", "cosine"]
    for precision, r in reports.items():
        tuned = {"name": f"tuned ({precision})", "precision": precision, "latency_s": r["tuned_latency_s"],
                 "max_abs_error": r["max_abs_error"], "mean_abs_error": r.get("mean_abs_error"),
                 "cosine": r.get("cosine"), "reason": None}
        table = tabulate(rows_of([tuned, *r["peers"]]), headers, tablefmt="github", disable_numparse=True)
        sections.append(f"## {args.workload} tuned in {precision}: {r['search_s']:.0f} s of search, "
                        f"{r['trials_measured_this_run']} trials, correct: {r['correct']} (tolerance "
                        f"{r['tolerance']:g})\n\n{table}\n\ntuned / best peer in "
                        f"{peers_at(precision)} ({r['best_peer']}): "
                        f"**{r['tuned_over_best_peer']:.2f}x**\n")
        claims.append({"claim": f"{args.workload} tuned in {precision} for {budget_s:g} s: latency / the best peer "
                                f"in {peers_at(precision)} ({r['best_peer']}), own run",
                       "number": f"{r['tuned_over_best_peer']:.2f}x (cosine to float32 torch {r['cosine']:.6f})",
                       "command": command, "commit": r["provenance"].get("commit", "unknown")})
    from litecoop.measure.final import best_peer, time_fresh
    from litecoop.measure.peers import ALL
    from litecoop.tuning.run import THREADS
    from litecoop.workload import load

    together = time_fresh(load(args.workload), {f"tuned ({p})": Path(r["artifact"]) for p, r in reports.items()},
                          args.out / "together", THREADS, list(ALL))
    table = tabulate(rows_of([t.model_dump() for t in together]), headers, tablefmt="github", disable_numparse=True)
    sections.append(f"## Every tuned build and every peer in one series (fresh process, alternated)\n\n{table}\n")
    for precision in reports:
        tuned = next(t for t in together if t.name == f"tuned ({precision})")
        best = best_peer([t for t in together if not t.name.startswith("tuned")], precision)
        ratio = tuned.latency_s / best.latency_s
        sections.append(f"- tuned ({precision}) / best peer in {peers_at(precision)} "
                        f"({best.name}): **{ratio:.2f}x**")
        claims.append({"claim": f"{args.workload} tuned in {precision} for {budget_s:g} s, all builds and peers in one "
                                f"series: latency / the best peer in {peers_at(precision)} "
                                f"({best.name})",
                       "number": f"{ratio:.2f}x (cosine {tuned.cosine:.6f}; {best.name}: {best.cosine:.6f})",
                       "command": command, "commit": reports[precision]["provenance"].get("commit", "unknown")})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "precision.md").write_text("\n".join(sections))
    (args.out / "claims.json").write_text(json.dumps(claims, indent=1) + "\n")
    print((args.out / "precision.md").read_text())


if __name__ == "__main__":
    main()
