"""Re-time the confirmed speedups of a bench-code run under the timing rules of issue 13 (every repetition
in a fresh process on a fresh input, caching refused), with the candidates recorded in runs.jsonl and
no LLM call. Writes recheck.json beside runs.jsonl and prints a markdown table.

    PYTHONPATH=. python results/code/recheck.py [RESULTS_DIR] [EXAMPLES_DIR]
"""

import json
import sys
from pathlib import Path

from litecoop.codeopt.bench import load_examples
from litecoop.codeopt.evaluate import Evaluator
from litecoop.codeopt.search import CONFIRM_REPEAT


def main(results: Path, examples: Path) -> None:
    runs = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    tasks = load_examples(examples)
    rows = []
    for run in (r for r in runs if r["significant"]):
        evaluator = Evaluator(tasks[run["example"]])
        try:
            evaluator.prepare()
            now = evaluator.evaluate(run["best"]["source"], repeat=CONFIRM_REPEAT)
        finally:
            evaluator.close()
        rows.append({"example": run["example"], "strategy": run["strategy"], "input_size": evaluator.size,
                     "recorded_input_size": run.get("input_size"), "recorded": run["speedup"],
                     "now": now.speedup, "ci": now.ci, "p_value": now.p_value, "significant": now.significant,
                     "failure": now.failure})
        print(f"| {run['example']} | {run['strategy']} | {run['speedup']:.2f}x | {run.get('input_size')} -> {evaluator.size} "
              f"| {now.speedup:.2f}x "
              f"[{now.ci[0]:.2f}, {now.ci[1]:.2f}] p={now.p_value:.2g} | {now.significant} | {now.failure or ''} |",
              flush=True)
    (results / "recheck.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/code"),
         Path(sys.argv[2]) if len(sys.argv) > 2 else Path("examples/code"))
