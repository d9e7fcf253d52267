"""The meta-prompting ablation on three examples, two seeds: the four `bench-code` runs side by side.

    python results/code-cpu-subset/ablation.py      # reads results/code-cpu-subset*/runs.jsonl, prints markdown

Per strategy and meta-prompting on/off: runs with a significant confirmed speedup (of 3 examples) per seed,
geomean speedup per seed (1.0 where none was proven), LLM compute (tokens x parameters) summed over seeds.
"""

import json
from pathlib import Path

from scipy.stats import gmean

HERE = Path(__file__).parent.parent
RUNS = {("on", 0): "code-cpu-subset", ("off", 0): "code-cpu-subset-no-meta",
        ("on", 1): "code-cpu-subset-seed1", ("off", 1): "code-cpu-subset-no-meta-seed1"}


def main() -> None:
    runs = {key: [json.loads(line) for line in (HERE / folder / "runs.jsonl").read_text().splitlines()]
            for key, folder in RUNS.items()}
    print("| strategy | meta-prompting | significant (seed 0, seed 1) | geomean (seed 0, seed 1) | compute |")
    print("|---|---|---|---|---|")
    for strategy in ("single", "moa", "ga"):
        for meta in ("on", "off"):
            per_seed = [[r for r in runs[(meta, seed)] if r["strategy"] == strategy] for seed in (0, 1)]
            hits = [sum(r["significant"] for r in mine) for mine in per_seed]
            means = [gmean([r["speedup"] if r["significant"] else 1.0 for r in mine]) for mine in per_seed]
            compute = sum(u["compute_token_params"] for mine in per_seed for r in mine for u in r["llm"].values())
            print(f"| {strategy} | {meta} | {hits[0]}/3, {hits[1]}/3 | {means[0]:.2f}x, {means[1]:.2f}x | "
                  f"{compute:.3g} |")
    for meta in ("on", "off"):
        hits = sum(r["significant"] for seed in (0, 1) for r in runs[(meta, seed)])
        total = sum(len(runs[(meta, seed)]) for seed in (0, 1))
        print(f"\nmeta-prompting {meta}: {hits} of {total} runs with a significant speedup")


if __name__ == "__main__":
    main()
