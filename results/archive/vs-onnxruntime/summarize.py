"""Tabulate `litecoop tune --json` reports of this folder against onnxruntime and the roofline.

    python results/vs-onnxruntime/summarize.py    # writes README-table.md and each report's convergence plot (.png)

Per report: the time budget, the trials measured, the matmul calls on the library path (OpenBLAS), tuned / onnxruntime / torch latency (timed in alternation in
the tuning run), and the fraction of the roofline bound (litecoop.measure.roofline, measured here once) that the tuned
build and onnxruntime reach; then, per report, the tasks that took most of the tuned latency.
"""

import json
from pathlib import Path

from tabulate import tabulate

from litecoop.measure import roofline
from litecoop.report.tune_report import TuneReport, plot_convergence

HERE = Path(__file__).parent


def main() -> None:
    peak, bandwidth = roofline.peak_flops(), roofline.memory_bandwidth()
    rows, tasks = [], []
    for path in sorted(HERE.glob("*.json")):
        report = TuneReport.read(json.loads(path.read_text()), str(path))
        plot_convergence(report, path.with_suffix(".png"))
        bound = roofline.bound_s(report.flops, report.bytes, peak, bandwidth)
        tuned, ort = report.tuned_latency_s, report.onnxruntime_latency_s
        budget = report.time_budget_s  # None: rebuilt by --resume from a budgeted run's records (README)
        on_library = sum(trial.calls for trial in report.library_path if trial.taken)
        rows.append([path.stem, f"{budget / 60:.0f} min" if budget else "resumed", report.trials_measured_this_run, on_library,
                     f"{tuned * 1e3:.2f}", f"{ort * 1e3:.2f}", f"{(report.torch_latency_s or 0) * 1e3:.2f}",
                     f"{tuned / ort:.2f}", f"{bound / tuned:.2f}", f"{bound / ort:.2f}", report.correct])
        ranked = sorted((t for t in report.per_task if t.best_latency_s), key=lambda t: -t.weight * t.best_latency_s)
        tasks += [[path.stem, t.task, t.weight, t.trials, f"{t.weight * t.best_latency_s * 1e3:.2f}"]
                  for t in ranked[:5]]
    text = [f"Machine: peak {peak / 1e9:.0f} GFLOP/s (FMA microbenchmark, all cores), copy bandwidth "
            f"{bandwidth / 1e9:.1f} GB/s.", "",
            tabulate(rows, ["report", "budget", "trials", "matmuls on OpenBLAS", "tuned ms", "onnxruntime ms", "torch ms",
                            "tuned / onnxruntime", "tuned roofline", "onnxruntime roofline", "correct"], tablefmt="github"),
            "", "Tasks that take most of the tuned latency (weight x best measured latency):", "",
            tabulate(tasks, ["report", "task", "weight", "trials", "ms"], tablefmt="github"), ""]
    (HERE / "README-table.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
