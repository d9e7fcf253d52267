"""llama.cpp on CPUs with AMX: its extra CPU buffer types (weights laid out for AMX tiles or repacked) crash the first
decode with a segmentation fault on an Intel Xeon (Sapphire Rapids) with llama-cpp-python 0.3.36 built for the
machine it runs on. `Llama()` has no switch for them, so its default model parameters turn them off while a model
loads, on such CPUs only (elsewhere the repacked weights are llama.cpp's faster path)."""

from __future__ import annotations

from contextlib import contextmanager

from litecoop.artifact import host_cpu_flags


@contextmanager
def without_extra_buffer_types():
    """Within the block, llama.cpp models load without extra CPU buffer types (`use_extra_bufts = False`) where this
    CPU has AMX (`amx_tile` in /proc/cpuinfo); a no-op elsewhere."""
    if "amx_tile" not in host_cpu_flags():
        yield
        return
    from llama_cpp import llama_cpp

    default = llama_cpp.llama_model_default_params

    def params():
        chosen = default()
        chosen.use_extra_bufts = False
        return chosen

    llama_cpp.llama_model_default_params = params
    try:
        yield
    finally:
        llama_cpp.llama_model_default_params = default


if __name__ == "__main__":  # `python -m litecoop.llm.amx ARGS`: llama-cpp-python's server (ARGS as its own), AMX-safe
    import runpy
    import sys

    with without_extra_buffer_types():
        sys.argv[0] = "llama_cpp.server"
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
