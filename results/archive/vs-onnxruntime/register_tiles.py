"""Register tiles of MiniLM's slowest matmul task (128x384 @ 384x1536 + bias), from the 30-minute run's database:
the best record's trace, then the same trace with other innermost (register) tiles rows x cols = i3 x j3, the
outer levels kept as close to the record's as the extents allow, each built and timed the way the search
measures (litecoop.measure.builder_runner: MetaSchedule's LocalBuilder / LocalRunner, 3 x 3 runs).

    python results/vs-onnxruntime/register_tiles.py WORK_DIR [N]   # WORK_DIR: the minilm run's database; N tasks

Output of the committed run: register_tiles.txt."""
import json
import sys

import tvm_ffi
from tvm.s_tir import meta_schedule as ms
from tvm.s_tir.meta_schedule.arg_info import ArgInfo
from tvm.s_tir.meta_schedule.builder import BuilderInput
from tvm.s_tir.meta_schedule.runner import RunnerInput

from litecoop.measure.builder_runner import TimedBuilder, TimedRunner, mean_run_s
from litecoop.search.space import apply_edits, decision_sites, factorizations, log_distance, replay, tile_text
from litecoop.targets import load_target

db = ms.database.JSONDatabase(work_dir=sys.argv[1])
target = load_target("host")
records = db.get_all_tuning_records()
by_mod = {}
for r in records:
    s = mean_run_s(r.run_secs)
    if s is None or s > 1:
        continue
    key = tvm_ffi.structural_hash(r.workload.mod)
    if key not in by_mod or s < by_mod[key][0]:
        by_mod[key] = (s, r)
slowest = sorted(by_mod.values(), key=lambda x: -x[0])[: int(sys.argv[2]) if len(sys.argv) > 2 else 1]
builder, runner = TimedBuilder(), TimedRunner()
postprocs = ms.postproc.Postproc.create("llvm")
ctx = ms.TuneContext(mod=slowest[0][1].workload.mod, target=target, space_generator="post-order-apply")
for p in postprocs:
    p._initialize_with_tune_context(ctx)
for best_s, record in slowest:
    mod = record.workload.mod
    trace = record.trace
    sites = [s for s in decision_sites(trace, max_choices=10**6) if s.key.startswith("t")]
    print("record", f"{best_s*1e3:.3f} ms", [(s.key, s.current, s.kind) for s in sites], flush=True)
    i_site, j_site, k_site = sites[0], sites[1], sites[2]
    i_ext, j_ext, k_ext = (eval("*".join(s.current.split("x"))) for s in (i_site, j_site, k_site))
    variants = {"record": {}}
    for rows in (1, 2, 4, 8, 16):
        for cols in (16, 32, 48, 64, 96, 128):
            if i_ext % rows or j_ext % cols:
                continue
            i_outer = [f for f in factorizations(i_ext, 4, i_ext) if f[3] == rows]
            j_outer = [f for f in factorizations(j_ext, 4, j_ext) if f[3] == cols]
            cur_i, cur_j = i_site.factors, j_site.factors
            bi = min(i_outer, key=lambda f: log_distance(f, cur_i))
            bj = min(j_outer, key=lambda f: log_distance(f, cur_j))
            variants[f"{rows}x{cols}"] = {i_site.key: tile_text(bi), j_site.key: tile_text(bj)}
    results = {}
    for name, edits in variants.items():
        legal_sites = [type(s)(**{**s.__dict__, "legal": tuple(list(s.legal) + [edits.get(s.key, s.current)])}) for s in sites]
        new = apply_edits(trace, legal_sites, edits) if edits else trace
        sch = replay(new, mod, postprocs)
        if sch is None:
            print(name, "illegal", flush=True)
            continue
        built = builder.build([BuilderInput(sch.mod, target)])[0]
        if built.error_msg:
            print(name, "build error", flush=True)
            continue
        res = runner.run([RunnerInput(built.artifact_path, "cpu", ArgInfo.from_entry_func(sch.mod, remove_preproc=True))])[0].result()
        s = mean_run_s(res.run_secs) if res.error_msg is None else None
        results[name] = s
        print(name, edits, f"{s*1e3:.3f} ms" if s else res.error_msg[-600:], flush=True)
    print(json.dumps({k: v for k, v in sorted(results.items(), key=lambda x: x[1] or 9)}))
