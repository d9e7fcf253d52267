"""The LLM team: local llama.cpp models and OpenAI-compatible servers, grammar-constrained JSON answers,
fenced code answers, and per-model accounting."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from dataclasses import asdict, dataclass, field

from litecoop.errors import UserError
from litecoop.llm import weights
from litecoop.llm.amx import without_extra_buffer_types
from litecoop.llm.model_spec import ModelSpec, load_models


FENCED_BLOCK = re.compile(r"```[\w+-]*\n(?:```[\w+-]*\n)*(.*?)\n```", re.DOTALL)  # tolerates a doubled opening fence
N_CTX_MAX = 16384  # context tokens of a local model at most (KV cache: ~0.5 GB for a 1.5B Qwen at this length)


class PromptTooLong(Exception):
    """A prompt that does not fit the model's context window; the call was not made (and costs nothing)."""


@dataclass
class Usage:
    """What one model cost during a run. `seconds` is wall time inside the model's calls and `load_s` the time
    to load it (once per run); compute = tokens x parameters. `regressions`: calls none of whose children was
    measured faster than their parent (strategy.TreeSearch)."""

    calls: int = 0
    load_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    invalid: int = 0
    duplicate: int = 0
    regressions: int = 0

    def as_dict(self, parameters: float) -> dict:
        """The usage as a dict, plus `compute_token_params`: (prompt + completion tokens) x `parameters`."""
        tokens = self.prompt_tokens + self.completion_tokens
        return asdict(self) | {"compute_token_params": tokens * parameters}


@dataclass
class ChatModel:
    """One member of the team. `parameters` is the parameter count; `role` is "small" or "large"
    (LiteCoOp's heterogeneous team). Subclasses stream a chat completion (`_stream`) and count tokens."""

    spec: ModelSpec
    seed: int = 0
    usage: Usage = field(default_factory=Usage)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def role(self) -> str:
        return self.spec.role

    @property
    def parameters(self) -> float:
        return self.spec.parameters

    @property
    def family(self) -> str:
        return self.spec.family

    def _stream(self, messages: list[dict], max_tokens: int, temperature: float, seed: int | None,
                response_format: dict | None, grammar: str | None) -> Iterator[str]:
        raise NotImplementedError

    def _count_tokens(self, text: str) -> int:
        raise NotImplementedError

    def load(self) -> None:
        """Make the model ready to answer (a local model's weights into memory); its time goes to `usage.load_s`,
        not to any call. Nothing to do for a model on a server."""

    def close(self) -> None:
        """Free what the model holds in memory (a local model's weights and KV cache); a later call loads it
        again. Nothing to do for a model on a server."""

    def _generate(self, system: str, user: str, max_tokens: int, temperature: float, seed: int | None = None,
                  response_format: dict | None = None, done: Callable[[str], bool] | None = None,
                  grammar: str | None = None) -> str:
        """Stream one answer, stop early once `done(text)`, and add its cost to `usage`."""
        self.load()
        start = time.perf_counter()
        text, tokens = "", 0
        stream = self._stream([{"role": "system", "content": system}, {"role": "user", "content": user}],
                              max_tokens, temperature, seed, response_format, grammar)
        for piece in stream:
            text += piece
            tokens += bool(piece)
            if done and done(text):
                break
        stream.close()
        self.usage.seconds += time.perf_counter() - start
        self.usage.calls += 1
        self.usage.prompt_tokens += self._count_tokens(system + user)
        self.usage.completion_tokens += tokens
        return text

    def ask_json(self, system: str, user: str, schema: dict, max_tokens: int = 160,
                 temperature: float = 0.7, grammar: str | None = None) -> dict | None:
        """Ask for one JSON object that the grammar built from `schema` admits (llama.cpp's JSON-schema
        grammar, locally or on a llama.cpp server). A local model uses `grammar` instead when given: a GBNF
        grammar whose sentences are JSON objects of `schema`, written without the whitespace that llama.cpp's
        schema grammar allows and that small models fill until `max_tokens` runs out. Returns the object, or
        None if the answer is not valid JSON (counted as invalid)."""
        content = self._generate(system, user, max_tokens, temperature,
                                 response_format={"type": "json_object", "schema": schema}, grammar=grammar)
        try:
            return json.loads(content)
        except (json.JSONDecodeError, TypeError):
            self.usage.invalid += 1
            return None

    def ask_code(self, system: str, user: str, max_tokens: int, temperature: float = 0.8,
                 seed: int | None = None) -> str | None:
        """Ask for source code; returns the first fenced code block of the answer, or None if there is none
        (counted as invalid). Generation stops at the block's closing fence, so trailing prose costs nothing.
        (A GBNF grammar would force the block, but costs 2-6x the time per token on these vocabularies.)
        """
        text = self._generate(system, user, max_tokens, temperature, seed, done=FENCED_BLOCK.search)
        match = FENCED_BLOCK.search(text)
        if match is None or not match.group(1).strip():
            self.usage.invalid += 1
            return None
        return match.group(1)

    def ask_text(self, system: str, user: str, max_tokens: int, temperature: float = 0.3) -> str:
        """Free text (used by the meta-prompter)."""
        return self._generate(system, user, max_tokens, temperature).strip()


@dataclass
class LocalModel(ChatModel):
    """A GGUF model run in-process by llama-cpp-python (llama.cpp) on the CPU.

    The llama.cpp context is created on first use, as long as the model was trained for, at most
    `n_ctx_max` tokens (spec; default N_CTX_MAX); it keeps the previous prompt's KV cache, so prompts that
    share a prefix (system text, program) are only partly re-evaluated.
    """

    _llama: object = None

    def weights_path(self) -> Path:
        """The checked GGUF file: a user's `path` (verified against `sha256`) or one assembled from chunks.
        Raises UserError if it is missing or its checksum is wrong."""
        if self.spec.path is not None:
            return weights.verify(Path(self.spec.path).expanduser(), self.spec.sha256)
        if not self.spec.chunks:
            raise UserError(f"model '{self.name}' has no weights: give `chunks` or `path` in its preset")
        return weights.assemble(self.spec)

    def load(self) -> None:
        """Load the model now (weights verified or assembled first), so that its first call does not pay for it."""
        self._load()

    def close(self) -> None:
        """Free llama.cpp's model and context now (~0.3-2 GB each), not whenever the garbage collector would."""
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    def _open(self, n_ctx: int):
        from llama_cpp import Llama

        extra = {"chat_format": self.spec.chat_format} if self.spec.chat_format else {}
        with without_extra_buffer_types():
            return Llama(model_path=str(self.weights_path()), n_ctx=n_ctx, n_threads=2, n_batch=512, seed=self.seed,
                         verbose=False, **extra)

    def _load(self):
        if self._llama is None:
            start = time.perf_counter()
            limit = self.spec.n_ctx_max or N_CTX_MAX
            self._llama = self._open(limit)
            metadata = self._llama.metadata
            trained = int(metadata.get(f"{metadata.get('general.architecture')}.context_length", limit))
            if trained < limit:
                self._llama.close()
                self._llama = self._open(trained)
            self.usage.load_s += time.perf_counter() - start
        return self._llama

    def _stream(self, messages, max_tokens, temperature, seed, response_format, grammar):
        from llama_cpp import LlamaGrammar

        constraint = ({"grammar": LlamaGrammar.from_string(grammar, verbose=False)} if grammar
                      else {"response_format": response_format})
        try:
            for chunk in self._load().create_chat_completion(messages=messages, max_tokens=max_tokens,
                                                             temperature=temperature, seed=seed, stream=True,
                                                             **constraint):
                yield chunk["choices"][0]["delta"].get("content") or ""
        except ValueError as err:  # llama-cpp-python: "Requested tokens (N) exceed context window of M"
            if "exceed context window" not in str(err):
                raise
            raise PromptTooLong(f"{self.name}: {err}") from None

    def _count_tokens(self, text: str) -> int:
        return len(self._load().tokenize(text.encode(), add_bos=True))


@dataclass
class RemoteModel(ChatModel):
    """A model behind an OpenAI-compatible chat endpoint (vLLM, llama.cpp's server, Ollama), via the
    `openai` client: `endpoint` (base URL), `model` (its name there), `timeout_s`, `retries` (the client
    retries connection errors, 408/429/5xx with exponential backoff), `api_key_env` (the environment
    variable holding the key; the key itself never enters presets, logs or reports). Prompt tokens are
    estimated at 4 characters per token (servers expose no common tokenizer).
    """

    _client: object = None

    def _connect(self):
        if self._client is None:
            from openai import OpenAI

            variable = self.spec.api_key_env
            if variable and not os.environ.get(variable):
                raise UserError(f"environment variable {variable} (API key of model '{self.name}') is not set")
            self._client = OpenAI(base_url=self.spec.endpoint, api_key=os.environ.get(variable or "", "none"),
                                  timeout=self.spec.timeout_s, max_retries=self.spec.retries)
        return self._client

    def _stream(self, messages, max_tokens, temperature, seed, response_format, grammar):
        import openai

        extra = {"response_format": response_format} if response_format else {}
        try:
            stream = self._connect().chat.completions.create(
                model=self.spec.model or self.name, messages=messages, max_tokens=max_tokens,
                temperature=temperature, seed=seed, stream=True, **extra)
            for chunk in stream:
                if chunk.choices:
                    yield chunk.choices[0].delta.content or ""
        except openai.APIError as err:
            raise UserError(f"LLM server of '{self.name}' at {self.spec.endpoint} failed: "
                            f"{type(err).__name__}: {str(err).splitlines()[0][:200]}") from None

    def _count_tokens(self, text: str) -> int:
        return len(text) // 4


class Team:
    """The models of a `models/*.toml` preset, small ones first. Shared by every task of a run."""

    def __init__(self, preset: str = "local-cpu", only: list[str] | None = None, seed: int = 0):
        specs = load_models(preset)
        if only:
            unknown = set(only) - {s.name for s in specs}
            if unknown:
                raise UserError(f"unknown model(s) {sorted(unknown)} in preset '{preset}'")
            specs = [s for s in specs if s.name in only]
        self.models = [(RemoteModel if s.endpoint else LocalModel)(spec=s, seed=seed) for s in specs]
        self.models.sort(key=lambda m: m.parameters)

    def close(self) -> None:
        """Free every model's memory (`ChatModel.close`); the team stays usable and loads models again on use."""
        for model in self.models:
            model.close()

    @property
    def small(self) -> list[ChatModel]:
        """The small models (role "small"), smallest first; the smallest model when none is marked small."""
        return [m for m in self.models if m.role == "small"] or self.models[:1]

    @property
    def large(self) -> ChatModel:
        """The largest model of the team (the router's course corrector)."""
        return self.models[-1]

    def reset_usage(self) -> None:
        """Start every model's accounting afresh."""
        for model in self.models:
            model.usage = Usage()

    def by_name(self, name: str) -> ChatModel:
        """The model called `name`. Raises StopIteration when the team has none."""
        return next(m for m in self.models if m.name == name)

    def usage_report(self) -> dict:
        """Per-model accounting plus the larger model's share of calls (a fraction in [0, 1])."""
        per_model = {m.name: m.usage.as_dict(m.parameters) for m in self.models}
        calls = sum(m.usage.calls for m in self.models)
        share = self.large.usage.calls / calls if calls else 0.0
        return {"llm": per_model, "large_model_call_share": share,
                "llm_s": sum(m.usage.seconds for m in self.models),
                "llm_load_s": sum(m.usage.load_s for m in self.models)}
