"""Bulk import: formats, mapping, bad rows, idempotent re-runs, O-data tables, the CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from safar.cli import app
from safar.config import Settings
from safar.errors import NotFound, ValidationFailed
from safar.events.importer import ImportSpec, parse_events, parse_mapping, run_import
from safar.identity import service
from safar.runtime import Runtime
from safar.workspaces.service import create_workspace

ROWS: list[dict[str, Any]] = [
    {
        "customer_id": "c1",
        "total": 120.5,
        "zip": "01234",
        "city": "تهران",
        "at": "2024-03-01T10:00:00Z",
    },
    {
        "customer_id": "c2",
        "total": 80,
        "zip": "02000",
        "city": "Shiraz",
        "at": "2024-03-02T11:30:00Z",
    },
    {
        "customer_id": "c1",
        "total": 15,
        "zip": "01234",
        "city": "تهران",
        "at": "2024-03-05T08:15:00Z",
    },
]


@pytest.fixture
def rt(embedded_settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(embedded_settings, ingest=False)
    yield runtime
    runtime.close()


@pytest.fixture
def ws(rt: Runtime) -> str:
    with rt.db.session() as session:
        workspace, _, _ = create_workspace(session, name="Import shop")
    return workspace.id


def write(path: Path, rows: list[dict[str, Any]], fmt: str) -> Path:
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    elif fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def events(rt: Runtime, ws: str) -> list[dict[str, Any]]:
    _, rows = rt.store.query(
        "SELECT event, user_id, channel, epoch_us(timestamp), properties, message_id "
        "FROM events WHERE workspace_id = $ws ORDER BY timestamp, event",
        {"ws": ws},
    )
    return [
        {
            "event": r[0],
            "user_id": r[1],
            "channel": r[2],
            "ts": r[3],
            "properties": json.loads(r[4]),
            "message_id": r[5],
        }
        for r in rows
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_each_format_maps_columns_onto_segment_fields(
    rt: Runtime, ws: str, tmp_path: Path, fmt: str
) -> None:
    path = write(tmp_path / f"orders.{fmt}", ROWS, fmt)
    spec = ImportSpec(
        path=path,
        workspace_id=ws,
        mapping=parse_mapping(["userId=customer_id", "timestamp=at"]),
        event="order_placed",
        channel="store",
    )
    summary = run_import(rt, spec)
    assert (summary.rows, summary.stored, summary.bad_rows) == (3, 3, 0)
    stored = events(rt, ws)
    assert [e["user_id"] for e in stored] == ["c1", "c2", "c1"]
    assert {e["event"] for e in stored} == {"order_placed"}
    assert {e["channel"] for e in stored} == {"store"}
    first = stored[0]["properties"]
    # Unmapped columns land in properties, typed; codes with leading zeros stay text.
    assert first == {"total": 120.5, "zip": "01234", "city": "تهران"}
    assert stored[0]["ts"] == 1709287200 * 1_000_000
    assert summary.as_dict()["stored"] == 3 and "3 stored" in summary.describe()


def test_nested_targets_and_identify_rows(rt: Runtime, ws: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "id,mail,lang,device,note\nc9,Sara@Example.com,fa,dev-1,vip\n", encoding="utf-8"
    )
    spec = ImportSpec(
        path=path,
        workspace_id=ws,
        mapping=parse_mapping(
            ["userId=id", "traits.email=mail", "traits.language=lang", "context.device.id=device"]
        ),
        unmapped="traits",
    )
    summary = run_import(rt, spec)
    assert summary.stored == 1
    with rt.db.session() as session:
        pid = service.lookup(session, workspace_id=ws, type_="email", value="sara@example.com")
        profile = service.get_profile(session, workspace_id=ws, profile_id=pid)
    assert profile.traits["language"] == "fa"
    assert profile.traits["note"] == "vip"
    assert {(i.type, i.value) for i in profile.identities} >= {
        ("user_id", "c9"),
        ("device_id", "dev-1"),
    }


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_kept(
    rt: Runtime, ws: str, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "customer_id,event,at,comment\n"
        'c1,viewed,2024-01-01T00:00:00Z,"a comment\nthat spans two lines"\n'  # lines 2-3
        ",viewed,2024-01-01T00:00:00Z,no user\n"  # line 4
        "c2,viewed,yesterday-ish,bad time\n"  # line 5
        "c3,,2024-01-01T00:00:00Z,no event\n"  # line 6
        "c4,viewed,2024-01-01T00:00:00Z,fine\n"  # line 7
        "c5,viewed,2024-01-01T00:00:00Z\n",  # line 8: a cell short
        encoding="utf-8",
    )
    report = tmp_path / "bad.jsonl"
    spec = ImportSpec(
        path=path, workspace_id=ws, mapping=parse_mapping(["userId=customer_id", "timestamp=at"])
    )
    summary = run_import(rt, spec, report_path=report)
    assert (summary.rows, summary.stored, summary.bad_rows) == (6, 2, 4)
    lines = [json.loads(x) for x in report.read_text().splitlines()]
    assert [(x["line"], x["field"]) for x in lines] == [
        (4, "userId"),
        (5, "timestamp"),
        (6, "event"),
        (8, None),
    ]
    assert "userId or anonymousId is required" in lines[0]["error"]
    assert lines[0]["row"]["comment"] == "no user"
    assert "3 cells" in lines[3]["error"]
    assert {e["user_id"] for e in events(rt, ws)} == {"c1", "c4"}
    assert summary.report_path == str(report)


def test_malformed_jsonl_lines_are_reported(rt: Runtime, ws: str, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"type": "track", "event": "a", "userId": "u1"}\n'
        "{not json\n"
        "\n"
        '["a list"]\n'
        '{"type": "track", "event": "b", "userId": "u1", "timestamp": "1900-01-01T00:00:00Z"}\n'
        '{"type": "page", "anonymousId": "a1", "name": "Home"}\n',
        encoding="utf-8",
    )
    summary = run_import(rt, ImportSpec(path=path, workspace_id=ws))
    assert summary.stored == 2
    assert [(e["line"], e["field"]) for e in summary.errors] == [
        (2, None),
        (4, None),
        (5, "timestamp"),
    ]
    assert "malformed JSON" in summary.errors[0]["error"]
    # Without --report the bad rows still land in a file in the data dir.
    assert summary.report_path and Path(summary.report_path).exists()


@pytest.mark.parametrize("stack", ["duckdb-sqlite", "clickhouse-postgres"], indirect=True)
def test_re_running_an_import_stores_nothing_twice(settings: Settings, tmp_path: Path) -> None:
    runtime = Runtime(settings, ingest=False)
    try:
        with runtime.db.session() as session:
            ws = create_workspace(session, name="Again")[0].id
        first = write(tmp_path / "orders.csv", ROWS, "csv")
        spec = ImportSpec(
            path=first,
            workspace_id=ws,
            mapping=parse_mapping(["userId=customer_id", "timestamp=at"]),
            event="order_placed",
        )
        assert run_import(runtime, spec).stored == 3
        again = run_import(runtime, spec)
        assert (again.stored, again.duplicates) == (0, 3)
        # Same rows, another file name and order, plus one new row: only the new one is stored.
        extra = {**ROWS[0], "customer_id": "c7"}
        other = write(tmp_path / "export-2.csv", [ROWS[2], extra, ROWS[0], ROWS[1]], "csv")
        spec.path = other
        third = run_import(runtime, spec)
        assert (third.stored, third.duplicates) == (1, 3)
        assert runtime.store.count(ws) == 4
    finally:
        runtime.close()


ORDERS = (
    "order_id,customer_id,purchased_at,shipped_at,delivered_at,total\n"
    "o1,c1,2024-01-02 10:00:00,2024-01-03 09:00:00,2024-01-05 12:00:00,120.5\n"
    "o2,c2,2024-01-02 11:00:00,2024-01-04 09:00:00,,80\n"
    "o3,c3,2024-01-06 09:00:00,,,40\n"
)


def test_operational_table_with_several_timestamps_becomes_several_events(
    rt: Runtime, ws: str, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    spec = ImportSpec(
        path=path,
        workspace_id=ws,
        mapping=parse_mapping(["userId=customer_id", "messageId=order_id"]),
        events=parse_events(
            [
                "order_placed=purchased_at",
                "order_shipped=shipped_at",
                "order_delivered=delivered_at",
            ]
        ),
    )
    summary = run_import(rt, spec)
    assert (summary.rows, summary.events, summary.skipped_events) == (3, 6, 3)
    stored = events(rt, ws)
    o1 = [e for e in stored if e["user_id"] == "c1"]
    assert [e["event"] for e in o1] == ["order_placed", "order_shipped", "order_delivered"]
    assert [e["message_id"] for e in o1] == [
        "o1:order_placed",
        "o1:order_shipped",
        "o1:order_delivered",
    ]
    assert o1[2]["properties"] == {"order_id": "o1", "total": 120.5}
    assert run_import(rt, spec).stored == 0


def test_single_event_per_row_of_an_operational_table(rt: Runtime, ws: str, tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text(
        "ticket,customer,opened,topic\nT1,c1,2024-02-01 09:00:00,refund\nT2,c2,2024-02-02 09:00:00,late\n",
        encoding="utf-8",
    )
    spec = ImportSpec(
        path=path,
        workspace_id=ws,
        mapping=parse_mapping(
            ["userId=customer", "timestamp=opened", "properties.ticket_id=ticket"]
        ),
        event="ticket_opened",
        channel="chat",
    )
    assert run_import(rt, spec).stored == 2
    stored = events(rt, ws)
    assert stored[0]["properties"] == {"ticket_id": "T1", "topic": "refund"}
    assert {e["channel"] for e in stored} == {"chat"}


def test_spec_and_workspace_errors_name_the_field(rt: Runtime, ws: str, tmp_path: Path) -> None:
    path = write(tmp_path / "orders.csv", ROWS, "csv")
    with pytest.raises(ValidationFailed, match="FIELD=COLUMN"):
        parse_mapping(["userId"])
    with pytest.raises(ValidationFailed, match="unknown field 'user'"):
        parse_mapping(["user=customer_id"])
    with pytest.raises(ValidationFailed, match="no column 'cust'"):
        run_import(rt, ImportSpec(path=path, workspace_id=ws, mapping={"userId": "cust"}))
    with pytest.raises(NotFound, match="no workspace 'ws_missing'"):
        run_import(rt, ImportSpec(path=path, workspace_id="ws_missing"))
    with pytest.raises(ValidationFailed, match="--channel"):
        ImportSpec(path=path, workspace_id=ws, channel="fax")
    with pytest.raises(ValidationFailed, match="--format"):
        ImportSpec(path=tmp_path / "x.xlsx", workspace_id=ws)


def test_parquet_is_read_in_batches(
    rt: Runtime, ws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safar.events import import_readers

    monkeypatch.setattr(import_readers, "PARQUET_BATCH", 7)
    rows = [{"userId": f"u{i}", "event": "seen", "n": i} for i in range(50)]
    path = write(tmp_path / "many.parquet", rows, "parquet")
    summary = run_import(rt, ImportSpec(path=path, workspace_id=ws))
    assert summary.stored == 50 and rt.store.count(ws) == 50


# -- CLI ---------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "cli"
    monkeypatch.setenv("SAFAR_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    return data


def _workspace(runner: CliRunner) -> str:
    result = runner.invoke(app, ["workspace", "create", "CLI shop", "--json"])
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["workspace_id"])


def test_cli_imports_with_mapping_file_and_reports(cli_env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ws = _workspace(runner)
    (tmp_path / "orders.csv").write_text(ORDERS + "o4,,2024-01-07 09:00:00,,,1\n", encoding="utf-8")
    (tmp_path / "orders.yaml").write_text(
        "map:\n  userId: customer_id\nevents:\n  order_placed: purchased_at\n"
        "  order_shipped: shipped_at\n  order_delivered: delivered_at\nchannel: web\n",
        encoding="utf-8",
    )
    args = ["import", "events", "orders.csv", "-w", ws, "--mapping-file", "orders.yaml", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["events"], out["stored"], out["bad_rows"]) == (6, 6, 1)
    assert out["errors"][0]["line"] == 5 and out["errors"][0]["field"] == "userId"
    again = json.loads(runner.invoke(app, args).stdout)
    assert (again["stored"], again["duplicates"]) == (0, 6)
    text = runner.invoke(app, args[:-1])
    assert "line 5: userId or anonymousId is required" in text.stdout


def test_cli_errors_are_clear(cli_env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ws = _workspace(runner)
    write(tmp_path / "orders.csv", ROWS, "csv")
    result = runner.invoke(app, ["import", "events", "orders.csv", "-w", "ws_nope"])
    assert result.exit_code == 2
    assert "no workspace 'ws_nope'" in result.stderr
    result = runner.invoke(app, ["import", "events", "orders.csv", "-w", ws, "--map", "x=y"])
    assert result.exit_code == 2 and "unknown field 'x'" in result.stderr


def test_cli_says_when_a_running_server_holds_the_store(cli_env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ws = _workspace(runner)
    write(tmp_path / "orders.csv", ROWS, "csv")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            # Holds the lock until the test closes its stdin (or kills it).
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('ok', flush=True);"
            " sys.stdin.read()",
            str(cli_env / "events.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        started = time.monotonic()
        result = runner.invoke(
            app,
            [
                "import",
                "events",
                "orders.csv",
                "-w",
                ws,
                "--event",
                "x",
                "--map",
                "userId=customer_id",
            ],
        )
        assert time.monotonic() - started < 30
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    assert "in use by another process" in result.stderr
    assert "/v1/batch" in result.stderr


def test_gzip_tsv_and_typed_parquet_columns(rt: Runtime, ws: str, tmp_path: Path) -> None:
    import gzip
    from datetime import UTC, datetime
    from decimal import Decimal

    tsv = tmp_path / "visits.tsv.gz"
    with gzip.open(tsv, "wt", encoding="utf-8") as f:
        f.write("anonymousId\tname\ttype\tsecret\nv1\tHome\tpage\tx\nv2\tCart\tpage\ty\n")
    summary = run_import(rt, ImportSpec(path=tsv, workspace_id=ws, unmapped="drop"))
    assert (summary.format, summary.stored) == ("csv", 2)
    _, rows = rt.store.query(
        "SELECT channel, properties FROM events WHERE workspace_id = $ws AND type = 'page'",
        {"ws": ws},
    )
    assert {r[0] for r in rows} == {"web"} and {r[1] for r in rows} == {"{}"}

    table = pa.table(
        {
            "customer": ["c1"],
            "at": pa.array([datetime(2024, 5, 1, 12, 0, tzinfo=UTC)], pa.timestamp("us", "UTC")),
            "amount": pa.array([Decimal("12.50")], pa.decimal128(10, 2)),
        }
    )
    pq.write_table(table, tmp_path / "pay.parquet")
    spec = ImportSpec(
        path=tmp_path / "pay.parquet",
        workspace_id=ws,
        mapping=parse_mapping(["userId=customer", "timestamp=at"]),
        event="payment",
    )
    assert run_import(rt, spec).stored == 1
    stored = [e for e in events(rt, ws) if e["event"] == "payment"]
    assert stored[0]["ts"] == int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp()) * 1_000_000
    assert stored[0]["properties"] == {"amount": 12.5}
