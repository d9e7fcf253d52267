#!/bin/bash
# The GPU check: on a machine with an NVIDIA GPU, CUDA, nvcc, torch and Python 3.12 but no package index,
# install the packages packed by `scripts/gpu_bundle.sh`, tune suite kernels on `cuda-sm90` with each
# strategy (`litecoop tune`: the search measures on the GPU, the final timing and correctness check run on
# it, torch eager and torch.compile on the same GPU are the peers), and write the tuned-vs-torch table.
#
#   scripts/gpu_check.sh [PART_FOLDER ...]        run from anywhere; PART_FOLDERs default to .gpu-bundle/*
#
# The bundle's parts may arrive in separate transfers: each call keeps the parts it is given in
# $LC_GPU_HOME/parts (default ~/.cache/litecoop-gpu) and exits 3 while parts are missing; the call that
# completes them installs the packages and runs the check.
# Settings (environment): KERNELS (default "flux_conv deepseek_moe llama3_attention"), PRECISIONS ("fp32 fp16":
# fp16 runs on tensor cores, torch in float16 as its peer), STRATEGIES ("mcts"), TRIALS (64), SEARCH (search
# preset, "default"), OUT (results, $LC_GPU_HOME/out), PER_RUN_S (time limit of one tune, 70 s, of which SETUP_S,
# 45 s, for what comes before and after the search: the search itself gets `--time-budget` the rest, so the run ends
# by itself with its report) and BUDGET_S (of the whole check, 450 s: runs that would not fit are skipped, so the
# check ends within ~8 minutes). The table is rewritten after every run, so a check cut short still reports.
# Exit status: 0 when every run finished with a correct result, 1 otherwise, 3 while parts are missing,
# 4 when the machine cannot run the check (no GPU, or an import fails).
set -uo pipefail
export PYTHONUNBUFFERED=1
start=$(date +%s)
repo=$(cd "$(dirname "$0")/.." && pwd)
home=${LC_GPU_HOME:-$HOME/.cache/litecoop-gpu}
out=${OUT:-$home/out}
mkdir -p "$home/parts" "$out"

# 1. gather the bundle's parts; install once all are here
folders=("$@")
[ ${#folders[@]} -gt 0 ] || folders=("$repo"/.gpu-bundle/*)
for folder in "${folders[@]}"; do
    [ -f "$folder/parts.sha256" ] && cp "$folder"/parts.sha256 "$folder"/site.tar.xz.part* "$home/parts/"
done
[ -f "$home/parts/parts.sha256" ] || { echo "no bundle parts given or kept in $home/parts"; exit 3; }
verified=$(cd "$home/parts" && sha256sum -c parts.sha256 2>/dev/null | grep -c ': OK$')
if [ "$verified" -lt "$(wc -l < "$home/parts/parts.sha256")" ]; then
    echo "kept $verified of $(wc -l < "$home/parts/parts.sha256") bundle parts in $home/parts; transfer the others and run again"
    exit 3
fi
if ! cmp -s "$home/parts/parts.sha256" "$home/site/.installed" 2>/dev/null; then
    rm -rf "$home/site"
    (cd "$home/parts" && cat $(awk '{print $2}' parts.sha256)) | xz -dc | tar -x -C "$home" \
        || { echo "unpacking the bundle failed"; exit 4; }
    cp "$home/parts/parts.sha256" "$home/site/.installed"
fi
echo "installed in $(( $(date +%s) - start )) s"

# 2. TVM's CUDA runtime needs libcudart.so.13: take the one of the nvidia package torch uses
cudart=$(python3 -c 'import glob, os, site
print(next((os.path.dirname(f) for d in site.getsitepackages()
            for f in glob.glob(os.path.join(d, "nvidia", "**", "libcudart.so.13*"), recursive=True)), ""))')
export LD_LIBRARY_PATH=${cudart:+$cudart:}/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export PYTHONPATH=$home/site:$repo
nvidia-smi -L
python3 -c 'import tvm, torch
assert tvm.cuda(0).exist, "TVM finds no GPU"
assert torch.cuda.is_available(), "torch finds no GPU"
print("tvm", tvm.__version__, tvm.cuda(0).device_name, "sm", tvm.cuda(0).compute_version, "torch", torch.__version__)' \
    || exit 4

# 3. the tuned-vs-torch table of the runs finished so far; exit status 0 when there is one and all are correct
write_table() {
python3 - "$out" <<'PY'
import sys
from pathlib import Path
from litecoop.report.tune_report import TuneReport, gpu_peer_markdown
out = Path(sys.argv[1])
reports = [TuneReport.model_validate_json(p.read_text()) for p in sorted(out.glob("*.json"))]
table = gpu_peer_markdown(reports) if reports else "no run finished\n"
(out / "gpu_check.md").write_text(table)
print(table, end="")
sys.exit(0 if reports and all(r.correct for r in reports) else 1)
PY
}

# 4. tune each kernel in each precision with each strategy, within the budget
runs=0; done_runs=0
for kernel in ${KERNELS:-flux_conv deepseek_moe llama3_attention}; do
  for precision in ${PRECISIONS:-fp32 fp16}; do
    for strategy in ${STRATEGIES:-mcts}; do
        runs=$((runs + 1))
        name=$kernel-$precision-$strategy
        left=$(( ${BUDGET_S:-450} - ($(date +%s) - start) - 15 ))
        limit=$(( left < ${PER_RUN_S:-70} ? left : ${PER_RUN_S:-70} ))
        search_s=$(( limit - ${SETUP_S:-45} ))
        if [ "$search_s" -lt 10 ]; then echo "== $name: skipped, budget spent"; continue; fi
        rm -rf "$out/work/$name" "$out/$name.json"
        t0=$(date +%s)
        timeout "$limit" python3 -m litecoop.cli tune --workload "$kernel" --target cuda-sm90 --precision "$precision" \
            --strategy "$strategy" --trials "${TRIALS:-64}" --time-budget "${search_s}s" --search "${SEARCH:-default}" \
            --seed 0 --work-dir "$out/work/$name" --json "$out/$name.json" > "$out/$name.log" 2>&1
        status=$?
        echo "== $name: exit $status in $(( $(date +%s) - t0 )) s (limit $limit s)"
        [ $status -eq 0 ] && done_runs=$((done_runs + 1)) || tail -n 5 "$out/$name.log"
        write_table > /dev/null
    done
  done
done
write_table
correct=$?
echo "$done_runs of $runs runs finished in $(( $(date +%s) - start )) s; table in $out/gpu_check.md"
[ $correct -eq 0 ] && [ $done_runs -eq $runs ]
