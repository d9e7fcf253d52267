"""The house rules that code review would otherwise have to remember."""

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "litecoop"


def test_the_source_optimizer_never_imports_tvm():
    code = ("import sys, litecoop.codeopt.session, litecoop.codeopt.bench, litecoop.codeopt.compare; "
            "print(sorted(m for m in sys.modules if m == 'tvm' or m.startswith('tvm.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_loading_a_tuned_model_needs_neither_the_llm_stack_nor_the_cost_model():
    code = "import sys, litecoop; print([m for m in ('llama_cpp', 'xgboost', 'openai') if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_every_module_stays_small():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 300}
    assert long == {}
