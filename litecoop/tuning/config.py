"""What one `litecoop tune` run is asked to do (the command line's options, typed and validated)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt, field_validator, model_validator

from litecoop.build.precision import PRECISIONS
from litecoop.search import registry
from litecoop.errors import validated
from litecoop.presets import load_preset

DEFAULT_TRIALS = 64  # measured trials when neither --trials nor --time-budget is given
OPTIONS = {"workload": "--workload", "work_dir": "--work-dir", "target": "--target", "strategy": "--strategy",
           "trials": "--trials", "time_budget_s": "--time-budget", "seed": "--seed", "resume": "--resume",
           "search_preset": "--search", "models_preset": "--models", "warm_start": "--warm-start",
           "fresh": "--fresh", "precision": "--precision",
           "tolerance": "--tolerance"}  # the command-line option of each field, for errors


class TuneConfig(BaseModel):
    """One tuning run. The search stops after `trials` measured trials (all tasks together) or
    `time_budget_s` seconds of search (setup and the final build come on top), whichever comes first;
    with neither, after DEFAULT_TRIALS. `target`, `search_preset` and `models_preset` name presets in
    `targets/`, `search/`, `models/` (or .toml paths). `resume`: continue the records already in
    `work_dir`; `fresh`: do not seed the search with the records earlier runs kept in the user's store;
    `warm_start`: a work dir whose records (of this or a similar shape) seed the search; `measure_peers`:
    time onnxruntime and torch in alternation with the tuned build; `precision`: what the build computes in
    (litecoop.build.precision), its output judged correct within `tolerance` (None: the precision's default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workload: str
    work_dir: Path
    target: str = "host"
    strategy: str = "mcts"
    trials: PositiveInt | None = None
    time_budget_s: PositiveFloat | None = None
    seed: int = 0
    resume: bool = False
    search_preset: str = "default"
    models_preset: str = "local-cpu"
    warm_start: Path | None = None
    fresh: bool = False
    measure_peers: bool = True
    precision: Literal[PRECISIONS] = "fp32"
    tolerance: PositiveFloat | None = None

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, name: str) -> str:
        registry.get(name)
        return name

    @model_validator(mode="after")
    def _known_presets(self) -> TuneConfig:
        # every preset is read up front, also one the strategy will not use (an LLM team for `mcts`)
        for kind, name in (("targets", self.target), ("search", self.search_preset), ("models", self.models_preset)):
            load_preset(kind, name)
        return self

    @model_validator(mode="before")
    @classmethod
    def _some_budget(cls, options: dict) -> dict:
        if options.get("trials") is None and options.get("time_budget_s") is None:
            return {**options, "trials": DEFAULT_TRIALS}
        return options

    @classmethod
    def of(cls, **options) -> TuneConfig:
        """A config from keyword options. Raises UserError, in one line, for a bad or unknown option (named
        as on the command line)."""
        return validated(cls, options, "litecoop tune", OPTIONS)

