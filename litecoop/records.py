"""Tuning is never thrown away: a per-user store of TVM tuning records, one MetaSchedule JSONDatabase per target
shared by every workload, under `$LITECOOP_CACHE/records/<target kind>-<hash of the target's attributes>/`
(default `~/.cache/litecoop/records/`).

MetaSchedule keys a record by its task's workload (the task's PrimFunc module, compared structurally), so a
task tuned for one model serves every later model with the same task on the target (BERT-base and DistilBERT
share their layers); a record reaches a task whose blocks are named otherwise renamed to its names
(`litecoop.block_names`). Before tuning, a run copies into its work dir's database only the stored records of its
own tasks (`reuse`: they seed the search and compete in the final build); afterwards it appends the records
the store lacks (`keep`). A tree search moves the store's best records of other tasks onto a task that has none
(`store_warm_start`: the same operator at other shapes). The work dir counts its records from the store
(`REUSED_FILE`, per task in `REUSED_BY_TASK_FILE`), so that `--resume` counts only its own.

Two runs may share the store at once (two models tuned side by side): every change to a database directory is
an append made under an exclusive `fcntl.flock` of its `LOCK_FILE`, readers take a shared one. A JSONDatabase's
records file refers to workloads by their line in the workload file, so an append resolves each record's
workload against the file as it is under the lock (appending new workloads first) and never writes a workload
twice (MetaSchedule's own commits would misnumber new workloads after a duplicate). Lines are copied verbatim,
only the workload number is rewritten, so a record is the same text in every database it reaches.

Stores of older versions, one per (workload, target) (`<workload>-<module hash>-<kind>-<target hash>/`), are
merged into the target's store on its first use and left in place (`MERGED_FILE` lists those merged).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from tvm.s_tir import meta_schedule as ms
from tvm_ffi import structural_equal, structural_hash

from litecoop.block_names import name_map, renamed_record
from litecoop.errors import UserError
from litecoop.measure.builder_runner import mean_run_s

REUSED_FILE = "records_from_earlier_runs.txt"
REUSED_BY_TASK_FILE = "records_from_store.json"  # {structural hash of a task's module: records from the store}
WORKLOAD_FILE = "database_workload.json"  # the two files of a MetaSchedule JSONDatabase's work dir
DATABASE_FILE = "database_tuning_record.json"
LOCK_FILE = "database.lock"
MERGED_FILE = "merged_from_older_stores.txt"
FAILED_RUN_S = 1e9  # MetaSchedule records a trial that failed to run as 1e10 seconds
STORE_WARM_START_PER_WORKLOAD = 2  # the store's best records of each task that a new task's warm start considers


def store_root() -> Path:
    """$LITECOOP_CACHE/records, or ~/.cache/litecoop/records."""
    return Path(os.environ.get("LITECOOP_CACHE", Path.home() / ".cache" / "litecoop")) / "records"


def store_dir(target) -> Path:
    """The store's database directory for `target`: `<target kind>-<hash of the target's attributes>`."""
    return store_root() / f"{target.kind.name}-{hashlib.sha256(str(target).encode()).hexdigest()[:12]}"


def has_database(directory: Path) -> bool:
    """Whether `directory` holds a MetaSchedule JSONDatabase (its records file)."""
    return (directory / DATABASE_FILE).is_file()


def open_database(directory: Path):
    """The existing JSONDatabase in `directory` (MetaSchedule raises if it is incomplete)."""
    return ms.database.JSONDatabase(work_dir=str(directory), allow_missing=False)


def module_key(mod) -> str:
    """The key of a task's module in `REUSED_BY_TASK_FILE`: its structural hash, as MetaSchedule's workloads."""
    return str(structural_hash(mod))


@contextmanager
def _locked(directory: Path, exclusive: bool):
    """Hold an flock of `directory`'s LOCK_FILE: exclusive to change its database, shared to read it."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def _lines(path: Path, repair: bool = False) -> list[str]:
    """The lines of an append-only JSON-lines file. A last line without its newline that is not whole JSON (a
    writer that died mid-append) is left out; with `repair` (under the exclusive lock) it is cut off the file,
    or a whole one gets its newline."""
    if not path.is_file():
        return []
    data = path.read_bytes()
    body, newline, tail = data.rpartition(b"\n")
    lines = body.decode().split("\n") if newline else []
    if tail.strip():
        try:
            json.loads(tail)
            lines.append(tail.decode())
            if repair:
                with path.open("ab") as f:
                    f.write(b"\n")
        except ValueError:
            if repair:
                os.truncate(path, len(body + newline))
    return [line for line in lines if line.strip()]


_LOADED: dict[bytes, tuple] = {}  # sha1 of a workload line -> (structural hash, module): lines never change


def _load_workload(line: str) -> tuple:
    digest = hashlib.sha1(line.encode()).digest()
    if digest not in _LOADED:
        mod = ms.database.Workload.from_json(json.loads(line)).mod
        _LOADED[digest] = (structural_hash(mod), mod)
    return _LOADED[digest]


_RECORD = re.compile(r"\s*\[\s*(\d+)\s*,(.*)\]\s*$", re.S)


class _Files:
    """The two files of a JSONDatabase directory read as lines: `workloads` [(line, structural hash, module)],
    `records` [(workload number, the record's JSON text)], where a workload's number is that of its first
    structurally equal line with the same names (`find`)."""

    def __init__(self, directory: Path, repair: bool = False):
        self.workloads, self.by_hash = [], {}
        first = []
        for line in _lines(directory / WORKLOAD_FILE, repair):
            shash, mod = _load_workload(line)
            found = self.find(mod, shash)
            first.append(len(self.workloads) if found is None else found)
            self.add(line, shash, mod)
        self.records = []
        for line in _lines(directory / DATABASE_FILE, repair):
            match = _RECORD.match(line)
            if match and int(match.group(1)) < len(first):
                self.records.append((first[int(match.group(1))], match.group(2)))

    def add(self, line: str, shash: int, mod) -> int:
        self.workloads.append((line, shash, mod))
        self.by_hash.setdefault(shash, []).append(len(self.workloads) - 1)
        return len(self.workloads) - 1

    def equal(self, mod, shash: int | None = None) -> list[int]:
        """The numbers of the workloads structurally equal to `mod`, whatever their names."""
        return [i for i in self.by_hash.get(structural_hash(mod) if shash is None else shash, ())
                if structural_equal(self.workloads[i][2], mod)]

    def find(self, mod, shash: int | None = None) -> int | None:
        """The number of the first workload structurally equal to `mod` and with its names, or None. Structural
        equality ignores names, but a record's trace finds its blocks by name: MetaSchedule fails to load a
        database whose records' traces do not apply to their workloads (`litecoop.block_names`)."""
        candidates = self.equal(mod, shash)
        text = mod.script() if candidates else None
        return next((i for i in candidates if self.workloads[i][2].script() == text), None)


def _append(dest: Path, source: _Files, wanted: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Append to the database in `dest` the records `wanted` ((workload number in `source`, record text)) it
    lacks, with their workloads, under its exclusive lock; returns those appended."""
    with _locked(dest, exclusive=True):
        files = _Files(dest, repair=True)
        have, number, new_workloads, new_records, added = set(files.records), {}, [], [], []
        for index, text in wanted:
            if index not in number:
                line, shash, mod = source.workloads[index]
                found = files.find(mod, shash)
                if found is None:
                    found = files.add(line, shash, mod)
                    new_workloads.append(line)
                number[index] = found
            if (number[index], text) not in have:
                have.add((number[index], text))
                new_records.append(f"[{number[index]},{text}]")
                added.append((index, text))
        for name, lines in ((WORKLOAD_FILE, new_workloads), (DATABASE_FILE, new_records)):  # workloads first
            if lines or not (dest / name).exists():
                with (dest / name).open("a") as f:
                    f.write("".join(line + "\n" for line in lines))
    return added


def _read(directory: Path) -> _Files:
    with _locked(directory, exclusive=False):
        return _Files(directory)


def _merge_older_stores(store: Path) -> None:
    """Merge the per-(workload, target) stores of older versions for this target into `store`, once each."""
    merged = store / MERGED_FILE
    done = set(merged.read_text().split()) if merged.is_file() else set()
    for old in sorted(store.parent.glob(f"*-{store.name}")):
        if old.name not in done and has_database(old):
            source = _read(old)
            _append(store, source, source.records)
            with merged.open("a") as f:
                f.write(old.name + "\n")


def reused_count(work_dir: Path) -> int:
    """How many records of the work dir's database came from the store."""
    path = work_dir / REUSED_FILE
    return int(path.read_text()) if path.is_file() else 0


def reused_by_task(work_dir: Path, mods) -> list[int]:
    """For each task module in `mods`, how many records of the work dir's database came from the store."""
    path = work_dir / REUSED_BY_TASK_FILE
    counts = json.loads(path.read_text()) if path.is_file() else {}
    return [counts.get(module_key(mod), 0) for mod in mods]


def own_count(work_dir: Path) -> int:
    """How many records of the work dir's database its own runs measured."""
    path = work_dir / DATABASE_FILE
    lines = sum(1 for line in path.open() if line.strip()) if path.is_file() else 0
    return lines - reused_count(work_dir)


def reuse(store: Path, work_dir: Path, mods) -> list[int]:
    """Copy into the work dir's database the store's records of the tasks whose modules are `mods` (a
    TuneContext's `mod`: its workload) that the work dir lacks; returns, per task, the work dir's total of
    records from the store. Call it before opening the work dir's database."""
    _merge_older_stores(store)
    files = _read(store)
    tasks, wanted = {}, []  # workload number in `files` -> task; (workload number, record text)
    texts = {}  # workload number in the store -> its records' texts
    for number, text in files.records:
        texts.setdefault(number, []).append(text)
    for task, mod in enumerate(mods):
        equal = files.equal(mod)
        if not equal:
            continue
        own = files.find(mod)
        if own is None:  # the task as this model names it joins `files` (in memory) for the records renamed to it
            own = files.add(json.dumps(ms.database.Workload(mod).as_json()), structural_hash(mod), mod)
        tasks.setdefault(own, task)
        for index in equal:
            names = None if index == own else name_map(files.workloads[index][2], mod)
            wanted += [(own, text if names is None else renamed_record(text, names)) for text in texts.get(index, ())]
    added = _append(work_dir, files, wanted)
    per_task = Counter(tasks[index] for index, _ in added)
    path = work_dir / REUSED_BY_TASK_FILE
    counts = json.loads(path.read_text()) if path.is_file() else {}
    for task, count in per_task.items():
        counts[module_key(mods[task])] = counts.get(module_key(mods[task]), 0) + count
    path.write_text(json.dumps(counts))
    (work_dir / REUSED_FILE).write_text(str(reused_count(work_dir) + len(added)))
    return reused_by_task(work_dir, mods)


def keep(work_dir: Path, store: Path) -> int:
    """Append the work dir's records that the store lacks to it; returns how many."""
    _merge_older_stores(store)
    if not has_database(work_dir):
        return 0
    files = _read(work_dir)
    return len(_append(store, files, files.records))


def warm_start_records(db_dir: Path, per_workload: int = 32) -> tuple:
    """The `per_workload` best TuningRecords of each workload in the database in `db_dir`, ordered by
    latency relative to the best of their own workload (best first); failed trials are left out. Raises
    UserError without a database."""
    if not has_database(db_dir):
        raise UserError(f"--warm-start: no tuning database in {db_dir}")
    files, measured = _read(db_dir), {}  # workload number -> [(seconds, record text)]
    for number, text in files.records:
        seconds = mean_run_s(json.loads(text)[1])
        if seconds is not None and seconds < FAILED_RUN_S:
            measured.setdefault(number, []).append((seconds, text))
    ranked = []
    for number, group in measured.items():
        group.sort(key=lambda pair: pair[0])
        workload = ms.database.Workload(files.workloads[number][2])
        ranked += [(seconds / group[0][0], record) for seconds, text in group[:per_workload]
                   if (record := _parsed(text, workload)) is not None]
    return tuple(record for _, record in sorted(ranked, key=lambda pair: pair[0]))


def _parsed(text: str, workload):
    """The TuningRecord of a record's JSON text, or None if its trace needs what this process lacks (bf16's)."""
    try:
        return ms.database.TuningRecord.from_json(json.loads(text), workload)
    except (ValueError, RuntimeError):
        return None


def store_warm_start(store: Path) -> tuple:
    """The store's best records of each workload (`warm_start_records`), for a tree search to move onto the tasks
    of a new model that the store has no records of (the same operator at other shapes: ViT's layers after
    BERT's); () for an empty store."""
    return warm_start_records(store, STORE_WARM_START_PER_WORKLOAD) if has_database(store) else ()
