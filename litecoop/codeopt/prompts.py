"""Prompts of the source-code optimizer: rewrite (mutation), merge (crossover), aggregate (MoA), a later MoA
layer's proposal (shown the previous layer's verdicts), and the contexts a meta-prompter reads (MPCO:
project, task, model).

Every answer is one fenced code block (see `ChatModel.ask_code`). For Python the
answer may hold only the functions it changes: `splice` puts them back into the file.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass

LANGUAGE_NAMES = {"python": "Python", "cpp": "C++17"}

# The kinds of fix a proposer can be asked for (its role): diversity from prompts, not only from models.
ROLES = {
    "python": {
        "algorithm": "lower the complexity of the hot lines with a better algorithm or data structure (a set or "
                     "dict instead of repeated scans, one sort instead of many, one pass instead of nested loops)",
        "built-ins": "move Python-level loops into built-ins and the standard library, which run in C (sum, min, "
                     "max, sorted, str.join, map, zip, itertools, collections, bisect, heapq)",
        "hot loop": "remove repeated work from the hot loop: hoist invariant work, bind attributes and methods to "
                    "locals, avoid copies, slices and conversions inside it",
    },
    "cpp": {
        "algorithm": "lower the complexity of the hot lines with a better algorithm or data structure",
        "memory": "avoid allocations and copies: reserve vectors, pass by reference, use contiguous containers, "
                  "read and write with fast I/O",
        "hot loop": "make the hot loop cheap: hoist invariant work, avoid divisions and branches, walk memory in order",
    },
}


@dataclass(frozen=True)
class Contexts:
    """The three MPCO contexts, as text. `project`: language, dependencies, constraints; `task`: what to
    speed up and the profile of its hot spots; the model context is built per model. `identity` names the
    task for caching (the profile's numbers vary from run to run; the code does not)."""

    project: str
    task: str
    identity: str


def project_context(lang: str, source: str, file_name: str) -> str:
    """Language, the file's dependencies (imports / includes) and the constraints every candidate must keep."""
    if lang == "python":
        deps = sorted({alias.name.split(".")[0] for node in ast.walk(ast.parse(source))
                       if isinstance(node, (ast.Import, ast.ImportFrom))
                       for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])})
        rules = "same function names, signatures, return values and exceptions; standard library only"
    else:
        deps = sorted({line.split()[1] for line in source.splitlines() if line.startswith("#include")})
        rules = "same stdin/stdout behaviour byte for byte; standard library only; compiled with g++ -O2 -std=c++17"
    return (f"language: {LANGUAGE_NAMES[lang]}; file: {file_name}; dependencies: {', '.join(deps) or 'none'}; "
            f"constraints: {rules}")


def task_context(entry: str | None, hot_spots: str) -> str:
    """The task part of a meta-prompt: the goal (the entry function, else the program) and the original's
    profile hot spots."""
    goal = f"make the function `{entry}` faster" if entry else "make the program faster"
    return f"goal: {goal} on large inputs.\nprofile of the original:\n{hot_spots}"


def model_context(name: str, family: str, parameters: float, strengths: str) -> str:
    """The model part of a meta-prompt: name, family, size in billions of parameters and strengths."""
    return f"model: {name} ({family}, {parameters / 1e9:.2g}B parameters); strengths: {strengths or 'unknown'}"


def default_system(lang: str) -> str:
    """The fixed system prompt used when meta-prompting is off (the ablation)."""
    return (f"You are an expert {LANGUAGE_NAMES[lang]} performance engineer. Make the code faster by fixing the "
            "algorithm or data structure on its hot lines. Keep behaviour exactly the same. "
            "Answer with code only, in one code block.")


def meta_request(contexts: Contexts, model: str) -> tuple[str, str]:
    """(system, user) asking the meta-prompter to write a system prompt for `model`."""
    system = ("You write system prompts for small code models that optimize code for speed. "
              "Write at most 6 short imperative sentences, plain text, no code.")
    user = (f"Project context: {contexts.project}\n\nTask context: {contexts.task}\n\nModel context: {model}\n\n"
            "Write the system prompt for this model: name the likely inefficiency seen in the profile, the kind "
            "of fix to try, the constraints to keep, and tell it to answer with code only in one code block.")
    return system, user


EXCERPT_AT_MOST = 0.8  # show an excerpt only when it leaves out at least a fifth of the file


def _bound_names(statement: ast.stmt) -> set[str]:
    """The module-level names a top-level statement defines: its function or class, its imports, the targets it
    assigns (also inside an `if` or `try`, e.g. a helper defined per Python version)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def excerpt(source: str, entry: str | None) -> str:
    """Python: the top-level statements `entry` uses, transitively (its function and the functions, classes,
    constants and imports it names), in file order, under a comment saying that the rest stays as it is. The
    answer's functions are spliced back into the whole file (`splice`), so a model reads and rewrites the code
    that runs, not the module around it. The whole `source` when there is no entry, it does not parse, the
    entry is not a top-level name, or the excerpt would leave out less than 1 - EXCERPT_AT_MOST of it."""
    try:
        statements = ast.parse(source).body
    except SyntaxError:
        return source
    binders = [(statement, _bound_names(statement)) for statement in statements]
    used, names, todo = set(), set(), [entry] if entry else []
    while todo:
        name = todo.pop()
        names.add(name)
        for index, (statement, bound) in enumerate(binders):
            if name in bound and index not in used:
                used.add(index)
                todo += [node.id for node in ast.walk(statement) if isinstance(node, ast.Name)
                         and isinstance(node.ctx, ast.Load) and node.id not in names]
    if not used:
        return source
    parts = [ast.get_source_segment(source, binders[index][0]) for index in sorted(used)]
    shown = "\n\n".join(parts)
    if len(shown) > EXCERPT_AT_MOST * len(source):
        return source
    hidden = len(source.splitlines()) - sum(len(part.splitlines()) for part in parts)
    return f"# The code `{entry}` uses; the file's other {hidden} lines are not shown and stay as they are.\n{shown}"


def shown_code(lang: str, source: str, entry: str | None) -> str:
    """What a prompt shows of a version: Python's `excerpt` for the entry, C++'s whole program."""
    return excerpt(source, entry) if lang == "python" else source


def _file_block(lang: str, source: str, entry: str | None) -> str:
    return f"```{lang}\n{shown_code(lang, source, entry).rstrip()}\n```"


def _answer_rule(lang: str, entry: str | None) -> str:
    if lang == "python":
        return ("Answer with the new versions of the functions you change (and any imports they need), "
                f"keeping their names and signatures{f'; `{entry}` must stay' if entry else ''}.")
    return "Answer with the complete new program."


def _focus(lang: str, role: str) -> str:
    return f" Focus: {ROLES[lang][role]}." if role else ""


def rewrite_request(lang: str, contexts: Contexts, source: str, entry: str | None, note: str = "",
                    role: str = "") -> str:
    """Mutation / proposal: rewrite one version of the file. `note` says how that version measured; `role` (a
    key of ROLES[lang], or "" for none) names the kind of fix asked for."""
    return (f"{contexts.task}\n\n{note}\nCurrent code:\n{_file_block(lang, source, entry)}\n\n"
            f"Rewrite it to run faster.{_focus(lang, role)} {_answer_rule(lang, entry)}")


def layer_request(lang: str, contexts: Contexts, source: str, entry: str | None, note: str,
                  previous: list[tuple[str, str]], role: str = "") -> str:
    """A Mixture-of-Agents proposer after the first layer: rewrite the best version so far, shown the previous
    layer's candidates as their changes to it, each with its measured verdict (speedup or failure); `role` as
    in `rewrite_request`."""
    shown = "\n\n".join(f"Attempt {i} ({verdict}), as its changes to the current code:\n```diff\n{changes(source, other)}\n```"
                         for i, (other, verdict) in enumerate(previous, start=1))
    return (f"{contexts.task}\n\n{note}\nCurrent code:\n{_file_block(lang, source, entry)}\n\n"
            f"The previous layer's attempts, measured:\n\n{shown}\n\nRewrite the current code to run faster: "
            f"build on the attempts that were faster, avoid the mistakes of those that failed.{_focus(lang, role)} "
            f"{_answer_rule(lang, entry)}")


def changes(base: str, source: str) -> str:
    """The regions where `source` differs from `base`, as a unified diff with 3 lines of context."""
    return "".join(difflib.unified_diff(base.splitlines(keepends=True), source.splitlines(keepends=True),
                                        "version 1", "this version")).rstrip()


def merge_request(lang: str, contexts: Contexts, parents: list[tuple[str, str]], entry: str | None) -> str:
    """Crossover (GA) and aggregation (MoA): combine versions, each given with how it measured. The first
    is shown whole, the others as their changes to it, so the prompt grows with the changes, not the file."""
    (base, base_note), *others = parents
    shown = "\n\n".join([f"Version 1 ({base_note}):\n{_file_block(lang, base, entry)}"] + [
        f"Version {i} ({note}), as its changes to version 1:\n```diff\n{changes(base, source)}\n```"
        for i, (source, note) in enumerate(others, start=2)])
    return (f"{contexts.task}\n\n{shown}\n\nWrite one version that combines the correct speedups of these and "
            f"avoids their mistakes. {_answer_rule(lang, entry)}")


def _top_level(tree: ast.Module) -> dict[str, ast.stmt]:
    return {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}


def splice(original: str, answer: str) -> str:
    """Python: put the answer's functions and classes in place of the original's of the same name, add new
    ones and new imports or constants. Returns the answer unchanged if either side does not parse."""
    try:
        old_tree, new_tree = ast.parse(original), ast.parse(answer)
    except SyntaxError:
        return answer
    lines = original.splitlines()
    new_defs, old_defs = _top_level(new_tree), _top_level(old_tree)
    replaced = {name: ast.get_source_segment(answer, node) for name, node in new_defs.items() if name in old_defs}
    existing = {ast.unparse(node) for node in old_tree.body}
    additions = [ast.get_source_segment(answer, node) for node in new_tree.body
                 if getattr(node, "name", None) not in old_defs and ast.unparse(node) not in existing
                 and not isinstance(node, ast.Expr)]
    for name, node in sorted(old_defs.items(), key=lambda item: -item[1].lineno):
        if name in replaced:
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            lines[start - 1:node.end_lineno] = replaced[name].splitlines()
    first_def = min((n.lineno for n in old_tree.body if not isinstance(n, (ast.Import, ast.ImportFrom, ast.Expr))),
                    default=len(lines) + 1)
    lines[first_def - 1:first_def - 1] = [*"\n".join(additions).splitlines(), ""] if additions else []
    return "\n".join(lines) + "\n"
