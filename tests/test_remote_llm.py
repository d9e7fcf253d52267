"""LLMs on a server: a real llama-cpp-python OpenAI-compatible server on loopback, serving the 270M model."""

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import free_port
from litecoop.errors import UserError
from litecoop.llm.team import LocalModel, RemoteModel, Team
from litecoop.llm.model_spec import load_models

SECRET = "test-secret-4d1c"


@pytest.fixture(scope="module")
def server():
    """llama-cpp-python's server with an API key, on a free loopback port (through `litecoop.llm.amx`, which runs it
    with llama.cpp's AMX buffers off on CPUs that have AMX, where they crash); yields its base URL."""
    weights = LocalModel(spec=load_models("test-tiny")[0]).weights_path()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "litecoop.llm.amx", "--model", str(weights), "--chat_format",
                                "gemma", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
                                "--n_threads", "1", "--api_key", SECRET],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {SECRET}"}),
                                   timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=30)


def preset(tmp_path, url, key_env="LITECOOP_TEST_KEY", retries=2, timeout_s=60):
    path = tmp_path / "mixed.toml"
    path.write_text(f'''
[[model]]
name = "gemma-local"
role = "small"
parameters = 270e6
{open_local_spec()}
[[model]]
name = "gemma-remote"
role = "large"
parameters = 271e6
endpoint = "{url}"
model = "gemma"
api_key_env = "{key_env}"
timeout_s = {timeout_s}
retries = {retries}
''')
    return str(path)


def open_local_spec() -> str:
    spec = load_models("test-tiny")[0].model_dump(exclude_defaults=True, exclude={"name", "role", "parameters"})
    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in spec.items())


def test_mixed_team_asks_a_remote_model(server, tmp_path, monkeypatch):
    monkeypatch.setenv("LITECOOP_TEST_KEY", SECRET)
    team = Team(preset(tmp_path, server))
    assert isinstance(team.small[0], LocalModel) and isinstance(team.large, RemoteModel)
    schema = {"type": "object", "properties": {"unroll": {"enum": [0, 16, 64]}}, "required": ["unroll"]}
    answer = team.large.ask_json("Answer in JSON.", "Pick an unroll factor.", schema, max_tokens=20)
    assert answer is not None and answer["unroll"] in (0, 16, 64)
    code = team.large.ask_code("Answer with code only, in one code block.", "Write a Python function add(a, b).",
                               max_tokens=120)
    usage = team.large.usage
    assert usage.calls == 2 and usage.completion_tokens > 0 and usage.prompt_tokens > 0
    assert code is not None or usage.invalid == 1
    local = team.small[0].ask_json("Answer in JSON.", "Pick an unroll factor.", schema, max_tokens=20)
    assert local is not None and team.small[0].usage.calls == 1
    assert SECRET not in json.dumps(team.usage_report()) + open(preset(tmp_path, server)).read()


def test_missing_or_wrong_key_is_a_user_error(server, tmp_path, monkeypatch):
    monkeypatch.delenv("LITECOOP_TEST_KEY", raising=False)
    with pytest.raises(UserError, match="LITECOOP_TEST_KEY .* is not set"):
        Team(preset(tmp_path, server)).large.ask_text("Be brief.", "Hi", max_tokens=4)
    monkeypatch.setenv("LITECOOP_TEST_KEY", "wrong")
    with pytest.raises(UserError, match="AuthenticationError") as error:
        Team(preset(tmp_path, server)).large.ask_text("Be brief.", "Hi", max_tokens=4)
    assert "wrong" not in str(error.value)


def test_unreachable_server_retries_with_backoff_then_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("LITECOOP_TEST_KEY", SECRET)
    team = Team(preset(tmp_path, f"http://127.0.0.1:{free_port()}/v1", retries=2, timeout_s=2))
    start = time.perf_counter()
    with pytest.raises(UserError, match="APIConnectionError"):
        team.large.ask_text("Be brief.", "Hi", max_tokens=4)
    assert time.perf_counter() - start > 0.5  # two retries with the client's exponential backoff
