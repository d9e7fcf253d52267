"""Hardware targets from `targets/*.toml` presets (or a path to one), as TVM `Target` objects."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import tvm
from tvm.target import Target, codegen

from litecoop.artifact import CPU_FLAGS, host_cpu_flags, llvm_feature
from litecoop.errors import UserError
from litecoop.presets import load_preset


# Streaming multiprocessors per architecture (data-center parts: A100; H100/H200 SXM), for prompts written
# where no GPU can be asked.
SM_COUNT = {"sm_80": 108, "sm_90": 132}
# TVM's DeviceAttrKind::kMaxRegistersPerBlock; tvm.runtime.Device has no property for it.
_MAX_REGISTERS_PER_BLOCK = 9


def load_target(name_or_path: str) -> Target:
    """Build the TVM target of a preset. `"detect"` values are filled from this machine (CPU name,
    core count). For a CUDA target, TVM is set up to compile kernels here (`use_cuda_compiler`).
    Raises UserError for an unknown preset or a target TVM rejects."""
    spec = dict(load_preset("targets", name_or_path))
    spec.pop("rpc", None)
    if spec.get("mcpu") == "detect":
        spec["mcpu"] = codegen.llvm_get_system_cpu()
        if missed := _features_llvm_misses(spec["mcpu"]):
            spec["mattr"] = [f"+{feature}" for feature in missed]
    if spec.get("num-cores") == "detect":
        spec["num-cores"] = len(os.sched_getaffinity(0))
    try:
        target = Target(spec)
    except Exception as err:  # noqa: BLE001 - TVM raises ValueError/TypeError/TVMError for a bad target
        raise UserError(f"invalid target '{name_or_path}': {str(err).splitlines()[0][:200]}") from None
    if target.kind.name == "cuda":
        use_cuda_compiler()
    return target


def _features_llvm_misses(mcpu: str) -> list[str]:
    """LLVM's names of the CPU_FLAGS this CPU lists in /proc/cpuinfo that LLVM's model of `mcpu` lacks: under a
    hypervisor LLVM named a Sapphire Rapids Xeon (avx512_bf16, AMX) `rocketlake`, which has no bfloat16."""
    named = Target({"kind": "llvm", "mcpu": mcpu})
    flags = host_cpu_flags()
    return [llvm_feature(flag) for flag in CPU_FLAGS
            if flag in flags and not codegen.target_has_features(llvm_feature(flag), named)]


def use_cuda_compiler() -> None:
    """Let TVM compile CUDA kernels on this machine (and in the builder processes it starts). TVM compiles
    with NVRTC from the `cuda-bindings` package unless TVM_CUDA_COMPILE_MODE is `nvcc`, and runs `nvcc` from
    PATH: without cuda-bindings the mode becomes nvcc, and when nvcc is not on PATH but in CUDA's own bin
    folder ($CUDA_PATH, else /usr/local/cuda), that folder joins PATH. Settings already made are kept."""
    try:
        has_nvrtc = importlib.util.find_spec("cuda.bindings") is not None
    except ModuleNotFoundError:
        has_nvrtc = False
    if not has_nvrtc:
        os.environ.setdefault("TVM_CUDA_COMPILE_MODE", "nvcc")
    cuda_bin = Path(os.environ.get("CUDA_PATH", "/usr/local/cuda")) / "bin"
    if shutil.which("nvcc") is None and (cuda_bin / "nvcc").is_file():
        os.environ["PATH"] = f"{cuda_bin}{os.pathsep}{os.environ.get('PATH', '')}"


def gpu_facts(target: Target, device=None) -> dict:
    """What prompts say about a CUDA target's GPU: `sms` (SM count), `warp` (threads per warp), `threads`
    (per block), `smem` (shared memory per block, bytes), `registers` (32-bit registers per block, None if
    unknown) and `source` (the GPU's name, or "preset"). Read from `device` (default `tvm.cuda(0)`) when it
    exists, else from the target's attributes and the SM count of its arch ("many" if unknown)."""
    device = device or tvm.cuda(0)
    if device.exist:
        registers = device._GetDeviceAttr(device.dlpack_device_type(), device.index, _MAX_REGISTERS_PER_BLOCK)
        return {"sms": device.multi_processor_count, "warp": device.warp_size, "threads": device.max_threads_per_block,
                "smem": device.max_shared_memory_per_block, "registers": registers, "source": device.device_name}
    attrs = target.attrs
    registers = attrs.get("registers_per_block")
    return {"sms": SM_COUNT.get(str(attrs.get("arch")), "many"), "warp": int(attrs.get("thread_warp_size", 32)),
            "threads": int(attrs.get("max_threads_per_block", 1024)),
            "smem": int(attrs.get("max_shared_memory_per_block", 49152)),
            "registers": int(registers) if registers is not None else None, "source": "preset"}


def describe(target: Target) -> str:
    """The target in one line: its kind and, where set, mcpu, arch and num-cores (e.g. `llvm mcpu=znver3`)."""
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
