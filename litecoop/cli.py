"""The `litecoop` command line. User mistakes end with a one-line error and exit code 2."""

from __future__ import annotations

import argparse
from itertools import groupby
import sys
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown

from litecoop.search import registry
from litecoop.api import duration_s
from litecoop.errors import UserError

console = Console(stderr=True)


def _tune(args) -> None:
    from litecoop.api import tune
    from litecoop.report.tune_report import write_json

    work_dir = args.work_dir or Path("runs") / f"{Path(args.workload).stem.replace(':', '-')}-{args.strategy}"
    tuned = tune(args.workload, target=args.target, strategy=args.strategy, trials=args.trials,
                 time_budget=args.time_budget, seed=args.seed, work_dir=work_dir, resume=args.resume,
                 search=args.search, models=args.models, warm_start=args.warm_start, fresh=args.fresh,
                 measure_peers=not args.no_peers, shapes=args.shapes, precision=args.precision,
                 tolerance=args.tolerance, console=console)
    console.print(f"tuned model saved in {tuned.directory} (load it with litecoop.load)")
    if args.shapes:
        from litecoop.tuning.shapes import report_shapes

        report_shapes(tuned, args.json, console)
    elif args.json:
        write_json(tuned.report, args.json)



def _bench(args) -> None:
    from litecoop.bench.run import run_bench

    budget_s = duration_s(args.time_budget) if args.time_budget is not None else None
    run_bench(args.suite, args.strategies.split(","), args.trials, args.seeds, args.out,
              kernels=args.kernels.split(",") if args.kernels else None, models_preset=args.models,
              search_preset=args.search, console=console, report_only=args.report_only, time_budget_s=budget_s)
    console.print(Markdown((args.out / "bench.md").read_text()))
    console.print(f"wrote {args.out}/bench.json, bench.md and plots")


def _yardstick(args) -> None:
    from litecoop.bench.yardstick import run_yardstick, suite_workloads

    workloads = suite_workloads(args.suite, args.only.split(",") if args.only else None)
    text = run_yardstick(workloads, args.out, duration_s(args.time_budget) if args.time_budget else None,
                         args.trials, args.strategy, args.seed, fresh=not args.warm, retime=args.retime,
                         console=console)
    console.print(Markdown(text))
    console.print(f"wrote {args.out}/yardstick.md, yardstick.json and yardstick.png")


def _shapes(inputs: list[tuple]) -> str:
    """Input (shape, dtype) pairs in words, runs of equal ones counted: `int64[1, 1], 8 x float32[1, 2, 512, 64]`."""
    runs = [(len(list(group)), f"{dtype}{list(shape)}") for (shape, dtype), group in groupby(inputs)]
    return ", ".join(f"{count} x {text}" if count > 1 else text for count, text in runs)


def _zoo(args) -> None:
    from rich.table import Table

    from litecoop.workload import zoo

    table = Table(title="the model zoo (random weights from the libraries' own definitions; batch 1, float32)")
    for column in ("name", "family", "parameters", "inputs", "what"):
        table.add_column(column)
    for row in zoo.entries():
        table.add_row(row["name"], row["family"], f"{row['params'] / 1e6:.1f} M",
                      _shapes(row["inputs"]), row["description"])
    Console().print(table)


def _roofline(args) -> None:
    from litecoop.measure.roofline import machine_limits

    limits = machine_limits(args.threads, remeasure=args.remeasure)
    console.print(f"peak {limits['peak_flops'] / 1e9:.0f} GFLOP/s (float32 FMA), copy bandwidth "
                  f"{limits['memory_bandwidth_Bps'] / 1e9:.1f} GB/s; load average {limits['load']:.2f} when measured")


def _bench_warm(args) -> None:
    from litecoop.bench.run import run_warm_bench

    run_warm_bench(args.source, args.target, args.strategy, args.trials, args.seeds, args.out,
                   search_preset=args.search, models_preset=args.models, console=console)
    console.print(f"wrote {args.out}/warm.json, warm.md and warm_speedup_vs_trials.png")


def _check(args) -> None:
    from litecoop.bench.check import run_check

    tolerance = float(args.tolerance.rstrip("%")) / (100 if args.tolerance.endswith("%") else 1)
    sys.exit(run_check(args.baseline, tolerance, args.junit, console=console))


def _build(args) -> None:
    from litecoop.bench.check import build_artifact

    console.print(f"wrote {build_artifact(args.workload, args.db, args.target, args.out)} (load it with litecoop.load)")


def _optimize_code(args) -> None:
    from litecoop.codeopt.session import optimize, summary_table, write_outputs
    from litecoop.codeopt.task import load_task
    from litecoop.llm.team import Team

    task = load_task(args.path, args.lang, args.tests, args.entry, args.inputs)
    if args.budget <= 0:
        raise UserError("--budget must be positive")
    report = optimize(task, args.strategy, Team(args.models, seed=args.seed), args.budget, args.seed,
                      meta_prompting=args.meta_prompting, single_model=args.model, console=console,
                      sandboxed=not args.no_sandbox)
    console.print(summary_table(report))
    if args.json:
        write_outputs(report, args.json)
        console.print(f"wrote {args.json} and its .md and .diff")
    else:
        print(report["best"]["diff"], end="")


def _bench_code(args) -> None:
    from litecoop.codeopt.bench import run_bench_code

    run_bench_code(args.examples, args.strategies.split(","), args.budget, args.out, args.seed, args.models,
                   meta_prompting=args.meta_prompting,
                   names=args.only.split(",") if args.only else None, console=console)
    console.print(f"wrote {args.out}/bench.json, bench.md and cost.png")


def _compare_code(args) -> None:
    from litecoop.codeopt.compare import run_compare_code

    console.print(Markdown(run_compare_code(args.folders, args.out)))
    console.print(f"wrote {args.out}/compare.md, compare.json and cost.png")


def add_comparison_options(command: argparse.ArgumentParser, out: Path, trials_help: str | None = None,
                           default_trials: int | None = 64) -> None:
    """The options `bench` and `bench-warm` share: trials per run, seeds, output folder (default `out`), and the
    models and search presets."""
    command.add_argument("--trials", type=int, default=default_trials, help=trials_help)
    command.add_argument("--seeds", type=int, default=3, help="runs per strategy and workload, seeds 0..N-1 (default 3)")
    command.add_argument("--out", type=Path, default=out, help=f"results folder; runs already in it are kept (default {out})")
    command.add_argument("--models", default="local-cpu", help="LLM team: preset in models/ or a .toml path")
    command.add_argument("--search", default="default", help="preset in search/ (default: default)")


def parser() -> argparse.ArgumentParser:
    """The `litecoop` argument parser: one subcommand per command, each with the function that runs it."""
    root = argparse.ArgumentParser(prog="litecoop", description=(
        "LiteCoOp: LLM-guided Monte-Carlo tree search over TVM schedules, with a team of local models."))
    commands = root.add_subparsers(dest="command", required=True)
    tune = commands.add_parser("tune", help="tune a workload; write its database, library (.so) and report")
    tune.add_argument("--workload", default="deepseek_moe",
                      help="kernel name, zoo:NAME (see `litecoop zoo`), minilm, path.onnx or module:function")
    tune.add_argument("--target", default="host", help="preset in targets/ or a .toml path (default: host)")
    tune.add_argument("--strategy", default="mcts", help="default mcts (wins at equal wall time, see README); "
                      + "; ".join(f"{s.name}: {s.description}" for s in registry.REGISTRY.values()))
    tune.add_argument("--trials", type=int, help="measured trials in total, all tasks (default 64 without --time-budget)")
    tune.add_argument("--time-budget", metavar="DURATION",
                      help="search wall time, e.g. 90s, 30m, 1h (setup and the final build come on top); "
                           "with --trials, whichever ends first")
    tune.add_argument("--fresh", action="store_true",
                      help="do not start from the records of earlier runs (kept per workload and target in the user "
                           "cache); this run's records are still kept")
    tune.add_argument("--no-peers", action="store_true",
                      help="time the tuned model alone (in a fresh process), not against onnxruntime, OpenVINO, torch")
    tune.add_argument("--shapes", help="tune for several input shapes, e.g. 1x32,1x32;1x64,1x64 (a shape per input, "
                      "sets separated by ;); other shapes run untuned, with symbolic dimensions, where TVM can build it")
    tune.add_argument("--precision", default="fp32", help="fp32; bf16, int8: matmuls in bf16 (AVX512-BF16), int8 (-VNNI); fp16 (CUDA)")
    tune.add_argument("--tolerance", type=float, help="max output error / output's max magnitude (default per precision)")
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--work-dir", type=Path, help="database and library go here (default runs/WORKLOAD-STRATEGY)")
    tune.add_argument("--resume", action="store_true", help="continue from the work dir's database")
    tune.add_argument("--json", type=Path, help="write the report as JSON here")
    tune.add_argument("--search", default="default", help="preset in search/ (default: default)")
    tune.add_argument("--models", default="local-cpu", help="LLM team: preset in models/ or a .toml path")
    tune.add_argument("--warm-start", type=Path, metavar="WORK_DIR",
                      help="seed the search with the best records of an earlier run (same or similar shapes)")
    tune.set_defaults(run=_tune)
    bench = commands.add_parser("bench", help="compare strategies, interleaved, over seeds; write results/")
    bench.add_argument("--suite", default="kernels", help="kernels | minilm")
    bench.add_argument("--kernels", help="comma-separated subset of the kernel suite")
    bench.add_argument("--strategies", default="evolutionary,random,mcts,single-llm,litecoop",
                       help=f"comma-separated, of {', '.join(registry.names())}")
    bench.add_argument("--report-only", action="store_true",
                       help="tune nothing: report the seeds whose runs are all finished (a long bench's progress)")
    bench.add_argument("--time-budget", metavar="DURATION",
                       help="search time per run, e.g. 10m (then --trials, unless given, does not stop a run)")
    add_comparison_options(bench, Path("results/bench"), trials_help="measured trials per run (default 64 without "
                           "--time-budget)", default_trials=None)
    bench.set_defaults(run=_bench)
    yardstick = commands.add_parser("yardstick", help="tune every model of a suite and time it against every peer "
                                    "in a fresh process; write results/")
    yardstick.add_argument("--suite", default="zoo", help="zoo | kernels | minilm (default zoo)")
    yardstick.add_argument("--only", help="comma-separated subset of the suite's names")
    yardstick.add_argument("--time-budget", metavar="DURATION", default="30m", help="search time per model (default 30m)")
    yardstick.add_argument("--trials", type=int, help="also stop a model's search after this many trials")
    yardstick.add_argument("--strategy", default="mcts")
    yardstick.add_argument("--seed", type=int, default=0)
    yardstick.add_argument("--warm", action="store_true", help="start from the records earlier runs kept (default: fresh)")
    yardstick.add_argument("--retime", action="store_true",
                           help="tune nothing: time the finished models against their peers again (a quiet machine)")
    yardstick.add_argument("--out", type=Path, default=Path("results/zoo"), help="results folder; finished models are kept")
    yardstick.set_defaults(run=_yardstick)
    roofline = commands.add_parser("roofline", help="this machine's peak FLOP/s and bandwidth (cached; measured idle)")
    roofline.add_argument("--threads", type=int, help="default: every core this process may use")
    roofline.add_argument("--remeasure", action="store_true", help="measure again (waits up to a minute for idle)")
    roofline.set_defaults(run=_roofline)
    zoo = commands.add_parser("zoo", help="list the model zoo (tune one with --workload zoo:NAME)")
    zoo.set_defaults(run=_zoo)
    warm = commands.add_parser("bench-warm", help="measure what warm-starting from a similar shape saves")
    warm.add_argument("--source", default="examples.warm_start.ffn:tokens_64", help="workload tuned first")
    warm.add_argument("--target", default="examples.warm_start.ffn:tokens_128",
                      help="workload tuned cold and warm-started from the source's records")
    warm.add_argument("--strategy", default="mcts", help=" | ".join(registry.tree_names()))
    add_comparison_options(warm, Path("results/warm"), "trials of every run, the source's included")
    warm.set_defaults(run=_bench_warm)
    check = commands.add_parser("check", help="fail (exit 1) when a tuned workload got slower than its baseline")
    check.add_argument("--baseline", type=Path, required=True, help="a `litecoop tune --json` report (or a list)")
    check.add_argument("--tolerance", default="5%", help="allowed slowdown of the median (default 5%%)")
    check.add_argument("--junit", type=Path, help="write JUnit XML here")
    check.set_defaults(run=_check)
    build = commands.add_parser("build", help="compile a workload from an existing tuning database, no search")
    build.add_argument("--workload", required=True)
    build.add_argument("--db", type=Path, required=True, help="work dir holding database_*.json")
    build.add_argument("--target", default="host")
    build.add_argument("--out", type=Path, default=Path("tuned"), help="artifact directory (default: tuned)")
    build.set_defaults(run=_build)
    code = commands.add_parser("optimize-code", help="make a Python or C++ file faster with the LLM team, proven by tests and timing")
    code.add_argument("path", type=Path, help="the file to optimize")
    code.add_argument("--lang", required=True, help="python | cpp")
    code.add_argument("--tests", required=True, help="Python: pytest file or shell command; C++: directory of *.in inputs")
    code.add_argument("--entry", help="Python: the function to time and compare on generated inputs "
                                      "(default: the one function of the file that the tests call)")
    code.add_argument("--inputs", type=Path, help="Python: file defining make_inputs(size, seed) -> tuple of arguments")
    code.add_argument("--strategy", default="single",
                      help="single | moa | ga (default single: it won results/code, see README)")
    code.add_argument("--budget", type=int, default=8, help="LLM code answers to spend (default 8)")
    code.add_argument("--seed", type=int, default=0)
    code.add_argument("--models", default="code-cpu",
                      help="LLM team: preset in models/ or a .toml path (default code-cpu: the 1.5B model, see README)")
    code.add_argument("--model", help="single: which model samples (default: the team's larger model)")
    code.add_argument("--meta-prompting", action=argparse.BooleanOptionalAction, default=False,
                      help="the larger model writes each model's prompt (MPCO); default off: it lost the ablation "
                           "in results/code-cpu-subset*, see README")
    code.add_argument("--json", type=Path, help="write the report here (and .md, .diff beside it)")
    code.add_argument("--no-sandbox", action="store_true",
                      help="run generated code without bubblewrap (only resource limits) where none works")
    code.set_defaults(run=_optimize_code)
    bench_code = commands.add_parser("bench-code", help="compare code strategies on a set of examples; write results/")
    bench_code.add_argument("--examples", type=Path, default=Path("examples/code"),
                            help="folder of examples, one folder each under python/ and cpp/ (default examples/code)")
    bench_code.add_argument("--only", help="comma-separated example names (default: all)")
    bench_code.add_argument("--strategies", default="single,moa,ga", help="comma-separated: single, moa, ga")
    bench_code.add_argument("--budget", type=int, default=6, help="LLM code answers per strategy and example (default 6)")
    bench_code.add_argument("--seed", type=int, default=0)
    bench_code.add_argument("--models", default="code-cpu", help="LLM team: preset in models/ or a .toml path")
    bench_code.add_argument("--meta-prompting", action=argparse.BooleanOptionalAction, default=False,
                            help="a larger model writes each model's prompt first (MPCO; default off)")
    bench_code.add_argument("--out", type=Path, default=Path("results/code"),
                            help="results folder; runs already in it are kept (default results/code)")
    bench_code.set_defaults(run=_bench_code)
    compare_code = commands.add_parser("compare-code", help="pool bench-code folders (one seed each) and compare "
                                                            "the strategies pairwise on the runs they share")
    compare_code.add_argument("folders", type=Path, nargs="+",
                              help="bench-code --out folders; a later folder's run replaces an earlier one's")
    compare_code.add_argument("--out", type=Path, default=Path("results/code-seeds"),
                              help="folder for compare.md, compare.json and cost.png (default results/code-seeds)")
    compare_code.set_defaults(run=_compare_code)
    return root


def main(argv: list[str] | None = None) -> None:
    """Entry point: UserError becomes `error: ...` and exit 2; Ctrl-C exit 130 with the records kept."""
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except UserError as err:
        console.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted: measured records are kept in the work dir; rerun with --resume")
        sys.exit(130)


if __name__ == "__main__":
    main()
