"""Facts about the CPU this process runs on, read from Linux (`/sys/devices/system/cpu`, `/proc/cpuinfo`), for
prompts that state what a schedule decision amounts to on this machine (register block against the register
file, cache block against L1/L2)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")


@dataclass(frozen=True)
class MachineFacts:
    """A CPU's cores, float32 SIMD lanes, vector registers and data-cache sizes in bytes (0 when unknown)."""

    cores: int
    simd: str
    lanes: int
    vector_registers: int
    l1d_bytes: int
    l2_bytes: int
    l3_bytes: int

    def describe(self) -> str:
        """One line for a prompt, e.g. '2 cores; AVX-512: 16 float32 lanes, 32 vector registers; L1d 32 KB, ...'."""
        caches = ", ".join(f"{name} {_kib(size)}" for name, size in
                           (("L1d", self.l1d_bytes), ("L2", self.l2_bytes), ("L3", self.l3_bytes)) if size)
        return (f"{self.cores} cores; {self.simd}: {self.lanes} float32 lanes, {self.vector_registers} vector "
                f"registers; {caches or 'cache sizes unknown'}")

    def fit(self, register_block: int, cache_block_bytes: int) -> str:
        """What a register block (accumulators) and a cache block (bytes) amount to on this machine."""
        registers = -(-register_block // self.lanes)
        level = next((name for name, size in (("L1d", self.l1d_bytes), ("L2", self.l2_bytes), ("L3", self.l3_bytes))
                      if size and cache_block_bytes <= size), "no cache level")
        return (f"the register block takes {registers} of {self.vector_registers} vector registers"
                f"{' (spills)' if registers > self.vector_registers - 2 else ''}; "
                f"the cache block fits in {level}")


def _kib(size: int) -> str:
    return f"{size // (1 << 20)} MB" if size >= 1 << 20 else f"{size // 1024} KB"


def _cache_bytes(level: int, kinds: tuple[str, ...]) -> int:
    for index in sorted(CACHE_DIR.glob("index*")):
        try:
            if int((index / "level").read_text()) == level and (index / "type").read_text().strip() in kinds:
                text = (index / "size").read_text().strip().upper()
                scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1], 1)
                return int(text.rstrip("KMG")) * scale
        except (OSError, ValueError):
            continue
    return 0


@lru_cache(maxsize=1)
def host_facts(cores: int | None = None) -> MachineFacts:
    """The facts of this machine; `cores` overrides the count (a target's `num-cores`)."""
    try:
        flags = set(next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("flags")).split(":", 1)[1].split())
    except (OSError, StopIteration):
        flags = set()
    if "avx512f" in flags:
        simd, lanes, registers = "AVX-512", 16, 32
    elif "avx2" in flags:
        simd, lanes, registers = "AVX2", 8, 16
    elif "asimd" in flags:
        simd, lanes, registers = "NEON", 4, 32
    else:
        simd, lanes, registers = "SSE", 4, 16
    return MachineFacts(cores or os.cpu_count() or 1, simd, lanes, registers, _cache_bytes(1, ("Data", "Unified")),
                        _cache_bytes(2, ("Unified", "Data")), _cache_bytes(3, ("Unified", "Data")))
