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
    spec.pop("rpc", None)
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


def load_rpc_config(name_or_path: str):
    """The preset's `[rpc]` table as MetaSchedule's RPCConfig (tracker host and port, device key, session
    timeout in seconds), or None when trials are measured in-process. Raises UserError if a field is
    missing, the tracker cannot be reached, or no server is registered under the device key."""
    from tvm.s_tir.meta_schedule.runner import RPCConfig

    rpc = load_preset("targets", name_or_path).get("rpc")
    if rpc is None:
        return None
    missing = {"tracker_host", "tracker_port", "device_key"} - rpc.keys()
    if missing:
        raise UserError(f"target '{name_or_path}': [rpc] needs {', '.join(sorted(missing))}")
    config = RPCConfig(tracker_host=rpc["tracker_host"], tracker_port=int(rpc["tracker_port"]),
                       tracker_key=rpc["device_key"], session_timeout_sec=int(rpc.get("session_timeout_s", 30)))
    try:
        servers = [s["key"].removeprefix("server:") for s in config.connect_tracker().summary()["server_info"]]
    except (RuntimeError, OSError) as err:
        raise UserError(f"cannot reach the RPC tracker at {config.tracker_host}:{config.tracker_port}: {err}") from None
    if config.tracker_key not in servers:
        raise UserError(f"no RPC server with key '{config.tracker_key}' is registered at the tracker "
                        f"{config.tracker_host}:{config.tracker_port} (registered: {', '.join(set(servers)) or 'none'})")
    return config
