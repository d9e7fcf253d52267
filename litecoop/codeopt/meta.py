"""Meta-prompting (MPCO): the larger model writes each model's system prompt from the project, task and
model contexts. Prompts are cached on disk per (project, task, model, meta-model), so a rerun or another
strategy on the same task pays nothing."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from litecoop.llm.team import ChatModel, Team
from litecoop.llm.weights import cache_dir
from litecoop.codeopt import prompts


class Prompter:
    """System prompts per model: written by `team.large` when `enabled`, else the fixed default.

    `calls`, `seconds` and `cache_hits` account for the meta-prompter alone.
    """

    def __init__(self, team: Team, lang: str, contexts: prompts.Contexts, enabled: bool = True,
                 cache: Path | None = None):
        self.team, self.lang, self.contexts, self.enabled = team, lang, contexts, enabled
        self.cache = cache or cache_dir().parent / "prompts"
        self.calls, self.seconds, self.cache_hits = 0, 0.0, 0
        self._memo: dict[str, str] = {}

    def system_for(self, model: ChatModel) -> str:
        """The system prompt for `model`: written by the team's larger model from the project, task and model
        contexts (MPCO meta-prompting), cached on disk and per run; the fixed default prompt when disabled."""
        if not self.enabled:
            return prompts.default_system(self.lang)
        if model.name in self._memo:
            return self._memo[model.name]
        context = prompts.model_context(model.name, model.family, model.parameters, model.spec.strengths)
        key = hashlib.sha256("\0".join([self.contexts.project, self.contexts.identity, context,
                                        self.team.large.name]).encode()).hexdigest()[:24]
        path = self.cache / f"{key}.txt"
        if path.is_file():
            self.cache_hits += 1
            text = path.read_text()
        else:
            start = time.perf_counter()
            text = self.team.large.ask_text(*prompts.meta_request(self.contexts, context), max_tokens=200)
            self.seconds += time.perf_counter() - start
            self.calls += 1
            text = text or prompts.default_system(self.lang)
            self.cache.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self._memo[model.name] = text
        return text

    def usage(self) -> dict:
        """What meta-prompting cost: enabled, larger-model calls, their seconds, cache hits and the prompts used."""
        return {"enabled": self.enabled, "calls": self.calls, "seconds": self.seconds, "cache_hits": self.cache_hits,
                "prompts": dict(self._memo)}
