"""The knobs of a search and the `search/` presets (TOML) that set them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, NonNegativeInt, PositiveFloat, PositiveInt

from litecoop.errors import validated
from litecoop.presets import load_preset


class SearchSettings(BaseModel):
    """One `search/` preset (defaults in `search/default.toml`, where each knob is explained). The tree
    strategies read all of it; every strategy reads `num_trials_per_iter` (trials built and measured per
    round), `run_timeout_s` (seconds after which a candidate is recorded as failed) and
    `cost_model_warmup_samples`. `search/paper.toml` is the LiteCoOp paper's search (docs/search.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    num_trials_per_iter: PositiveInt = 16
    run_timeout_s: PositiveFloat = 30.0
    samples_per_sketch: PositiveInt = 16
    exploration_per_iter: int = 3
    expansion_trials_per_iter: int = 4
    expansions_per_iter: int = 2
    incumbent_expansions_per_iter: int = 0
    children_per_expansion: PositiveInt = 4
    mutator_fill: bool = True
    max_children: PositiveInt = 4
    rollouts_per_child: int = 16
    elites_per_iter: int = 4
    rollouts_per_elite: int = 48
    open_limit: PositiveInt = 256
    edits_per_call: PositiveInt = 3
    uct_c: float = 1.0
    small_model_bias: float = 0.2
    regressions_before_large: PositiveInt = 3
    regression_rule: Literal["round", "paper"] = "round"
    llm_call_budget: NonNegativeInt = 0
    llm_after_stalled_rounds: int = 1
    warm_start_per_task: int = 8
    moves_between_tasks_per_iter: int = 1
    cost_model_warmup_samples: int = 16


def from_preset(preset: str) -> SearchSettings:
    """The settings of a `search/` preset (a name or a .toml path). Raises UserError for an unknown preset,
    an unknown knob or a bad value, in one line."""
    return validated(SearchSettings, load_preset("search", preset), f"search preset '{preset}'")
