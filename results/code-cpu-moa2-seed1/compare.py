"""single against MoA (plain first layer, gated aggregation) on two seeds, budget 4, the one-model code team:
seed 0 from `results/code-cpu` (single) and `results/code-cpu-moa2` (moa), seed 1 from this folder. Writes
compare.md over the examples this folder has finished.

    python results/code-cpu-moa2-seed1/compare.py
"""
import importlib.util
import math
from pathlib import Path

from litecoop.tables import markdown_table

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("moa2_compare", HERE.parent / "code-cpu-moa2" / "compare.py")
moa2_compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(moa2_compare)
runs, cell, compute = moa2_compare.runs, moa2_compare.cell, moa2_compare.compute


seed1 = runs(HERE / "runs.jsonl")
seed0 = {**runs(HERE.parent / "code-cpu" / "runs.jsonl"),
         **{key: run for key, run in runs(HERE.parent / "code-cpu-moa2" / "runs.jsonl").items() if key[1] == "moa"}}
examples = sorted({e for e, _ in seed1 if (e, "single") in seed1 and (e, "moa") in seed1})
columns = {f"{strategy} seed {seed}": [logs[(e, strategy)] for e in examples]
           for strategy in ("single", "moa") for seed, logs in ((0, seed0), (1, seed1))}
rows = [[e] + [cell(column[i]) for column in columns.values()] for i, e in enumerate(examples)]
summary = []
for name, column in columns.items():
    significant = sum(r["significant"] for r in column)
    geomean = math.exp(sum(math.log(r["speedup"] if r["significant"] else 1.0) for r in column) / len(column))
    summary.append([name, f"{significant} of {len(column)}", f"{geomean:.2f}x", f"{sum(map(compute, column)):.2e}",
                    f"{sum(r['llm_s'] for r in column):.0f}"])
text = ("Budget 4, no meta-prompting, the one-model team (code-cpu); geomean counts a run without a significant "
        "speedup as 1.0x.\n\n"
        + markdown_table(["strategy", "significantly faster", "geomean", "LLM compute (tokens x params)", "LLM s"],
                         summary) + "\n\n"
        + markdown_table(["example", *columns], rows) + "\n")
(HERE / "compare.md").write_text(text)
print(text, end="")
