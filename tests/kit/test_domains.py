"""Domains declare themselves; the app, the CLI and the migrations are built from the list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi import APIRouter
from sqlalchemy import inspect
from typer.testing import CliRunner

from safar.app import create_app
from safar.cli import app as cli_app
from safar.domains import DOMAINS, import_models, pages, routers
from safar.identity.finder.repository import IDENTITY_SEARCH, TRAIT_SEARCH
from safar.kit.db import Base, Database
from safar.kit.domain import Domain, load

SRC = Path(__file__).resolve().parents[2] / "src" / "safar"


def test_every_domain_folder_declares_a_module_and_is_listed() -> None:
    folders = {p.parent.name for p in SRC.glob("*/module.py")}
    assert folders == {d.name for d in DOMAINS}
    for name in folders:
        assert isinstance(load(f"safar.{name}.module:module"), Domain)


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_every_reference_of_a_domain_loads(domain: Domain) -> None:
    for ref in domain.routers:
        assert isinstance(load(ref), APIRouter), ref
    for page in domain.pages:
        assert isinstance(load(page).router, APIRouter), page
    for ref in [*domain.tasks.values(), *domain.actions.values(), *domain.ingest_hooks]:
        assert callable(load(ref)), ref
    for name, ref in domain.cli.items():
        part = load(ref)
        assert isinstance(part, typer.Typer) or callable(part), name
    handler = domain.privacy_handler()
    if handler is not None:
        assert callable(handler.export) and callable(handler.erase)


def included(routes: list[Any]) -> set[int]:
    """Ids of every router included under these routes (FastAPI keeps each one it includes)."""
    found: set[int] = set()
    for route in routes:
        router = getattr(route, "original_router", None)
        if router is not None:
            found |= {id(router)} | included(router.routes)
    return found


def test_the_app_serves_every_domain_router_and_page() -> None:
    app = create_app()
    mounted = included(app.routes)
    for router in routers():
        assert id(router) in mounted
    for page in pages():
        assert id(load(page).router) in mounted


def test_the_cli_has_every_domain_command() -> None:
    result = CliRunner().invoke(cli_app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for domain in DOMAINS:
        for name in domain.cli:
            assert name in result.output, name
    assert "privacy" in result.output


def test_the_models_of_the_list_are_the_migrated_schema(tmp_path: Path) -> None:
    """Alembic's metadata (built from DOMAINS) names exactly the tables the migrations create."""
    import_models()
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        db.migrate()
        migrated = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    finally:
        db.dispose()
    # The customer search's FTS5 indexes (migration 0015) are SQLite virtual tables kept by
    # triggers, with FTS5's own shadow tables (``<name>_data``, ``_idx``, ``_config``...):
    # an index, not a model.
    indexes = (IDENTITY_SEARCH.name, TRAIT_SEARCH.name)
    assert set(indexes) <= migrated
    migrated = {t for t in migrated if not any(t == i or t.startswith(f"{i}_") for i in indexes)}
    assert set(Base.metadata.tables) == migrated


def test_the_survey_job_names_match_the_domain_code() -> None:
    from safar.surveys import module, service, tasks

    assert module.EMIT_TASK == service.EMIT_TASK
    assert module.ACTION == tasks.ACTION


def test_a_domain_command_gets_its_runtime_only_under_the_safar_command(tmp_path: Path) -> None:
    from safar.events.cli import app as import_app

    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"type": "track", "event": "x", "userId": "u"}\n', encoding="utf-8")
    env = {"SAFAR_DATA_DIR": str(tmp_path / "safar"), "SAFAR_TEXT_ANALYSIS": "false"}
    # Alone, a one-command Typer app is that command.
    alone = CliRunner().invoke(import_app, [str(rows), "-w", "ws_x"], env=env)
    assert isinstance(alone.exception, RuntimeError)
    assert "safar command" in str(alone.exception)
    rooted = CliRunner().invoke(cli_app, ["import", "events", str(rows), "-w", "ws_x"], env=env)
    assert rooted.exit_code == 2  # a runtime opened; the workspace does not exist
    assert "ws_x" in rooted.output
