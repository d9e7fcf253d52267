"""Hardware targets from `targets/*.toml` presets (or a path to one), as TVM `Target` objects."""

from __future__ import annotations

import os

from tvm.target import Target, codegen

from .errors import UserError
from .presets import load_preset


def load_target(name_or_path: str) -> Target:
    """Build the TVM target of a preset. `"detect"` values are filled from this machine (CPU name,
    core count). Raises UserError for an unknown preset or a target TVM rejects."""
    spec = dict(load_preset("targets", name_or_path))
    if spec.get("mcpu") == "detect":
        spec["mcpu"] = codegen.llvm_get_system_cpu()
    if spec.get("num-cores") == "detect":
        spec["num-cores"] = len(os.sched_getaffinity(0))
    try:
        return Target(spec)
    except Exception as err:  # noqa: BLE001 - TVM raises ValueError/TypeError/TVMError for a bad target
        raise UserError(f"invalid target '{name_or_path}': {str(err).splitlines()[0][:200]}") from None


def describe(target: Target) -> str:
    attrs = {k: str(target.attrs[k]) for k in ("mcpu", "arch", "num-cores") if k in target.attrs}
    return target.kind.name + "".join(f" {k}={v}" for k, v in attrs.items())
