"""The knobs of the tree search and the `search/` presets (TOML) that set them."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UserError
from .presets import load_preset


@dataclass(frozen=True)
class SearchSettings:
    """Knobs of the tree search (defaults in `search/default.toml`)."""

    samples_per_sketch: int = 16
    exploration_per_iter: int = 3
    expansion_trials_per_iter: int = 4
    expansions_per_iter: int = 2
    incumbent_expansions_per_iter: int = 0
    children_per_expansion: int = 4
    max_children: int = 4
    rollouts_per_child: int = 16
    elites_per_iter: int = 4
    rollouts_per_elite: int = 48
    open_limit: int = 256
    edits_per_call: int = 3
    uct_c: float = 1.0
    small_model_bias: float = 0.2
    regressions_before_large: int = 3
    llm_after_stalled_rounds: int = 1
    warm_start_per_task: int = 8
    cost_model_warmup_samples: int = 16


def from_preset(preset: str) -> tuple[SearchSettings, int, float]:
    """(tree-search settings, trials per round, run timeout in seconds) from a `search/` preset."""
    spec = dict(load_preset("search", preset))
    per_iter = int(spec.pop("num_trials_per_iter", 16))
    run_timeout_s = float(spec.pop("run_timeout_s", 30))
    try:
        return SearchSettings(**spec), per_iter, run_timeout_s
    except TypeError as err:
        raise UserError(f"search preset '{preset}': {err}") from None
