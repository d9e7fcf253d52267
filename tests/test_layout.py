"""The house rules that code review would otherwise have to remember."""

import re
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


def test_every_decimal_the_readme_states_is_in_results_with_its_command():
    """README's measured numbers (every decimal outside its code blocks) appear in results/RESULTS.md, which
    `python benchmarks/make_results.py` writes from the results folders' claims and pages (each page names its
    command): a number typed into the README by hand, or a results folder changed without regenerating, fails."""
    root = PACKAGE.parent
    readme = re.sub(r"```.*?```", "", (root / "README.md").read_text(), flags=re.S)
    results = (root / "results" / "RESULTS.md").read_text()
    numbers = set(re.findall(r"\b\d+\.\d+(?:e[-+]\d+)?x?\b", readme))
    assert len(numbers) > 20 and sorted(n for n in numbers if n not in results) == []
