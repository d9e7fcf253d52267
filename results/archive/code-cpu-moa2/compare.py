"""MoA with a plain first layer and gated aggregation (moa2, this folder) against single, the earlier MoA and GA
(`results/code-cpu`, seed 0, budget 4, the same examples): writes compare.md.

    python results/code-cpu-moa2/compare.py
"""
import json
import math
from pathlib import Path

from litecoop.report.tables import markdown_table

HERE = Path(__file__).parent


def runs(path: Path) -> dict:
    return {(r["example"], r["strategy"]): r for r in map(json.loads, path.read_text().splitlines())}


def cell(run: dict) -> str:
    return f"{run['speedup']:.2f}x" + ("" if run["significant"] else " (n.s.)")


def compute(run: dict) -> float:
    return sum(usage["compute_token_params"] for usage in run["llm"].values())


def main() -> None:
    earlier, moa2 = runs(HERE.parent / "code-cpu" / "runs.jsonl"), runs(HERE / "runs.jsonl")
    examples = [example for example, _ in moa2]
    columns = {"single": "single", "moa (session 11)": "moa", "ga": "ga"}
    table = {name: [earlier[(e, s)] for e in examples] for name, s in columns.items()}
    table["moa2 (this run)"] = [moa2[(e, "moa")] for e in examples]
    rows = [[e] + [cell(table[name][i]) for name in table] for i, e in enumerate(examples)]
    summary = []
    for name, column in table.items():
        significant = sum(r["significant"] for r in column)
        geomean = math.exp(sum(math.log(r["speedup"] if r["significant"] else 1.0) for r in column) / len(column))
        spent = sum(map(compute, column)) / sum(map(compute, table["ga"]))
        summary.append([name, f"{significant} of {len(column)}", f"{geomean:.2f}x", f"{spent:.2f}x"])
    text = ("Seed 0, budget 4, no meta-prompting; geomean counts a run without a significant speedup as 1.0x.\n\n"
            + markdown_table(["strategy", "significantly faster", "geomean", "LLM compute / ga's"], summary) + "\n\n"
            + markdown_table(["example", *table], rows) + "\n")
    (HERE / "compare.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
