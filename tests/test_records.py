"""The user's store of tuning records: one MetaSchedule JSONDatabase per target, shared by every workload. A
run gets the stored records of its own tasks only, adds its records back, and two runs adding records at once
lose and corrupt nothing. Real TuningRecords of tiny TE matmuls (no tuning, no measurement)."""

import json
import multiprocessing

import tvm
from tvm import te
from tvm.s_tir import Schedule
from tvm.s_tir import meta_schedule as ms
from tvm.s_tir.meta_schedule.arg_info import ArgInfo
from tvm_ffi import structural_equal

from litecoop import records

TARGET = tvm.target.Target({"kind": "llvm", "num-cores": 2})


def matmul(rows: int, block: str = "C"):
    """The module of a (rows, 16) x (16, 16) matmul task whose block is named `block`, as MetaSchedule's
    TuneContext holds it (built by hand)."""
    a = te.placeholder((rows, 16), name="A")
    b = te.placeholder((16, 16), name="B")
    k = te.reduce_axis((0, 16), name="k")
    c = te.compute((rows, 16), lambda i, j: te.sum(a[i, k] * b[k, j], axis=k), name=block)
    func = te.create_prim_func([a, b, c]).with_attr("global_symbol", "main").with_attr("tirx.noalias", True)
    return tvm.IRModule({"main": func})


def rows_of(mod) -> int:
    return int(ArgInfo.from_prim_func(mod["main"])[0].shape[0])


def commit(work_dir, mod, run_secs: list[float]) -> None:
    """Commit one record of `mod` per run time to the JSONDatabase in `work_dir`, as a tuning run would: a
    trace with two tiling decisions (the first differs between records), a block it makes and gets by name (as
    MetaSchedule's postprocessors do), and its measured run time."""
    work_dir.mkdir(parents=True, exist_ok=True)
    database = ms.database.JSONDatabase(work_dir=str(work_dir))
    workload = database.commit_workload(mod)
    rows = rows_of(mod)
    for n, run_s in enumerate(run_secs):
        sch = Schedule(mod)
        name = "D" if '"D"' in mod.script() else "C"
        i, j, k = sch.get_loops(sch.get_sblock(name))
        outer = [1, 2, 4, 8][n % 4] if rows % 8 == 0 else 1
        sch.split(i, sch.sample_perfect_tile(i, n=2, decision=[outer, rows // outer]))
        sch.split(j, sch.sample_perfect_tile(j, n=2, decision=[4, 4]))
        sch.decompose_reduction(sch.get_sblock(name), k)
        sch.annotate(sch.get_sblock(f"{name}_init"), "pragma_init", 1)
        database.commit_tuning_record(ms.database.TuningRecord(
            sch.trace, workload, run_secs=[run_s], target=TARGET, args_info=ArgInfo.from_prim_func(mod["main"])))


def stored(directory) -> list:
    """Every record MetaSchedule reads from the database in `directory`."""
    return list(records.open_database(directory).get_all_tuning_records())


def run_times(directory) -> list[float]:
    return sorted(float(r.run_secs[0]) for r in stored(directory))


def test_workloads_share_the_target_store_and_a_run_gets_only_its_tasks(tmp_path, cache):
    store = records.store_dir(TARGET)
    assert store.parent == cache / "records" and store.name.startswith("llvm-")
    first, second = tmp_path / "bert", tmp_path / "gpt2"
    commit(first, matmul(8), [1e-3, 2e-3, 3e-3])
    commit(second, matmul(16), [4e-3, 5e-3])
    assert records.keep(first, store) == 3 and records.keep(second, store) == 2
    assert records.keep(first, store) == 0, "a record reaches the store once"
    assert [p.name for p in (cache / "records").iterdir()] == [store.name], "one store for the target"
    assert run_times(store) == [1e-3, 2e-3, 3e-3, 4e-3, 5e-3]
    assert len((store / records.WORKLOAD_FILE).read_text().splitlines()) == 2

    third = tmp_path / "distilbert"  # its tasks: the 16-row matmul (built anew: equal by structure) and a new one
    assert records.reuse(store, third, [matmul(16), matmul(24)]) == [2, 0]
    assert run_times(third) == [4e-3, 5e-3]
    assert all(structural_equal(r.workload.mod, matmul(16)) for r in stored(third))
    assert records.reused_count(third) == 2 and records.own_count(third) == 0

    commit(third, matmul(24), [6e-3])  # --resume: its own records count, those from the store do not
    assert records.own_count(third) == 1
    commit(second, matmul(16), [7e-3])  # meanwhile another run adds a record of the shared task
    assert records.keep(second, store) == 1
    assert records.reuse(store, third, [matmul(16), matmul(24)]) == [3, 0], "only the new record is copied"
    assert records.reused_count(third) == 3 and records.own_count(third) == 1
    assert records.reused_by_task(third, [matmul(24), matmul(16)]) == [0, 3]
    assert records.keep(third, store) == 1
    assert run_times(store) == [1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3, 7e-3]


def test_a_task_named_otherwise_gets_the_records_renamed_and_its_database_opens(tmp_path):
    """Another model's task of the same structure whose block has another name (as BERT-base's and DistilBERT's
    layer norms): it gets the first model's records with the blocks their traces get renamed to its own, and
    MetaSchedule, which replays each record's trace when it loads a database, opens its work dir."""
    store = tmp_path / "store"
    commit(tmp_path / "bert", matmul(16), [1e-3, 2e-3])
    records.keep(tmp_path / "bert", store)
    assert structural_equal(matmul(16), matmul(16, block="C")) and structural_equal(matmul(16), matmul(16, block="D"))
    assert records.reuse(store, tmp_path / "distilbert", [matmul(16, block="D")]) == [2]
    reused = stored(tmp_path / "distilbert")
    assert [float(r.run_secs[0]) for r in reused] == [1e-3, 2e-3]
    assert all('"D"' in r.workload.mod.script() and "get_sblock(name=\"D\"" in str(r.trace) for r in reused)
    commit(tmp_path / "distilbert", matmul(16, block="D"), [3e-3])
    assert records.keep(tmp_path / "distilbert", store) == 3
    assert records.reuse(store, tmp_path / "bert-again", [matmul(16)]) == [3]
    assert run_times(tmp_path / "bert-again") == [1e-3, 2e-3, 3e-3]


def test_fresh_copies_nothing(tmp_path):
    store = records.store_dir(TARGET)
    commit(tmp_path / "earlier", matmul(8), [1e-3, 2e-3])
    records.keep(tmp_path / "earlier", store)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    # tuner.tune with config.fresh: records.reused_by_task instead of records.reuse
    assert records.reused_by_task(fresh, [matmul(8)]) == [0] and records.reused_count(fresh) == 0
    assert not records.has_database(fresh) and records.own_count(fresh) == 0
    commit(fresh, matmul(8), [3e-3])
    assert records.keep(fresh, store) == 1 and len(stored(store)) == 3 and len(stored(fresh)) == 1


def test_older_per_workload_stores_are_merged_once(tmp_path):
    store = records.store_dir(TARGET)
    old = store.parent / f"bert-0123456789abcdef-{store.name}"  # the layout of older versions
    commit(old, matmul(8), [1e-3, 2e-3])
    commit(tmp_path / "run", matmul(16), [3e-3])
    assert records.reuse(store, tmp_path / "run", [matmul(8), matmul(16)]) == [2, 0]
    records.keep(tmp_path / "run", store)
    records.keep(tmp_path / "run", store)
    assert run_times(store) == [1e-3, 2e-3, 3e-3] and old.name in (store / records.MERGED_FILE).read_text()


def test_a_writer_that_died_mid_append_leaves_a_store_that_opens(tmp_path):
    store = records.store_dir(TARGET)
    commit(tmp_path / "first", matmul(8), [1e-3, 2e-3])
    records.keep(tmp_path / "first", store)
    whole = (store / records.DATABASE_FILE).read_text()
    (store / records.DATABASE_FILE).write_text(whole + whole.splitlines()[0][:40])  # a torn last line
    commit(tmp_path / "second", matmul(16), [3e-3])
    assert records.reuse(store, tmp_path / "third", [matmul(8)]) == [2], "a reader skips the torn line"
    assert records.keep(tmp_path / "second", store) == 1, "the next writer cuts it off"
    assert run_times(store) == [1e-3, 2e-3, 3e-3]


BATCHES, PER_BATCH = 20, 10  # each writer: 200 records, 20 workloads of its own and 20 shared with the other


def private_rows(writer: int, batch: int) -> int:
    return 8 * (1 + batch + 100 * (writer + 1))


def shared_rows(batch: int) -> int:
    return 8 * (1 + batch)


def run_s(writer: int, batch: int, n: int) -> float:
    return (1 + writer * 10_000 + batch * 100 + n) * 1e-6


def writer(number: int, store, root, barrier) -> None:
    """One tuning run after another adding its records to the store, at the same moments as the other writer."""
    for batch in range(BATCHES):
        work_dir = root / f"writer{number}-batch{batch}"
        half = PER_BATCH // 2
        commit(work_dir, matmul(private_rows(number, batch)), [run_s(number, batch, n) for n in range(half)])
        commit(work_dir, matmul(shared_rows(batch)), [run_s(number, batch, n) for n in range(half, PER_BATCH)])
        barrier.wait(timeout=60)
        assert records.keep(work_dir, store) == PER_BATCH


def test_two_writers_at_once_lose_and_corrupt_nothing(tmp_path):
    store = records.store_dir(TARGET)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    writers = [context.Process(target=writer, args=(n, store, tmp_path, barrier)) for n in range(2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
    assert [process.exitcode for process in writers] == [0, 0]

    expected = {}  # run time -> the rows of the record's workload
    for number in range(2):
        for batch in range(BATCHES):
            for n in range(PER_BATCH):
                rows = private_rows(number, batch) if n < PER_BATCH // 2 else shared_rows(batch)
                expected[round(run_s(number, batch, n) * 1e6)] = rows
    found = stored(store)  # MetaSchedule opens it
    times = sorted(round(float(r.run_secs[0]) * 1e6) for r in found)
    assert times == sorted(expected), "every record exactly once"
    assert all(rows_of(r.workload.mod) == expected[round(float(r.run_secs[0]) * 1e6)] for r in found), \
        "every record with its own workload"
    workloads = [json.loads(line) for line in (store / records.WORKLOAD_FILE).read_text().splitlines()]
    assert len(workloads) == len(set(expected.values())) == 3 * BATCHES, "each workload once"
