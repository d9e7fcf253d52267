"""A tuning record carried from one model's task to the same task of another model, whose blocks are named otherwise.

Structural equality ignores names, so MetaSchedule keys BERT-base's and DistilBERT's layer norm as one workload, but
TVM names some blocks after the model's variables (`lv17_sum` in one, `lv9_sum` in the other) and a record's trace
finds its blocks by name (`GetSBlock`): replayed on the other model's task it fails. Two structurally equal tasks
list their blocks in the same order, so the names map one to one, and a record is carried over by renaming the
blocks its trace gets.
"""

from __future__ import annotations

import re

from tvm import s_tir


def block_names(mod) -> list[str]:
    """The names of the blocks of a task's module (its `main` PrimFunc), in program order, the root block first."""
    schedule = s_tir.Schedule(mod)
    pending, names = [schedule.get_sblock("root", func_name="main")], []
    while pending:
        block = pending.pop()
        names.append(schedule.get(block).name_hint)
        pending.extend(reversed(schedule.get_child_blocks(block)))
    return names


_GET_SBLOCK = re.compile(r'(\[\s*"GetSBlock"\s*,\s*\[\s*\]\s*,\s*\[\s*")((?:[^"\\]|\\.)*)(")')


def renamed_record(text: str, names: dict[str, str]) -> str:
    """A record's JSON text (a JSONDatabase line's record, without its workload number) with every block its trace
    gets by name (the `GetSBlock` instructions) renamed by `names`; a name not in `names` is kept. The rest of the
    text is left as it was, so a record renamed there and back is the text it was. Blocks that the trace made
    (`lv17_sum_rf` by RFactor, `_init`, `_global`, ...) are named after their block: they are renamed by the longest
    name in `names` they start with."""
    by_length = sorted(names, key=len, reverse=True)

    def rename(name: str) -> str:
        if name in names:
            return names[name]
        stem = next((old for old in by_length if name.startswith(old + "_")), None)
        return name if stem is None else names[stem] + name[len(stem):]

    return _GET_SBLOCK.sub(lambda m: m.group(1) + rename(m.group(2)) + m.group(3), text)


def name_map(source_mod, dest_mod) -> dict[str, str]:
    """Block names of `source_mod` -> those of `dest_mod`, two structurally equal task modules."""
    return dict(zip(block_names(source_mod), block_names(dest_mod)))
