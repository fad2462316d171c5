"""Process discovery equals pm4py (the reference implementation) on real logs."""

from __future__ import annotations

import gzip
import io
import warnings
from pathlib import Path

import pytest

from safar.errors import ValidationFailed
from safar.journeys.analysis import CaseLog, conformance, discover
from safar.journeys.xes import read_case_log, read_xes, xes_bytes
from safar.runtime import Runtime
from tests.workspaces.factories import Workspace


@pytest.mark.parametrize("name", ["helpdesk.xes.gz", "bpic2012.xes.gz", "running-example.xes"])
def test_discovery_equals_pm4py(shared_data: Path, name: str) -> None:
    pm4py = pytest.importorskip("pm4py")
    path = shared_data / "process_logs" / name
    log = CaseLog(read_xes(path))
    got = discover(log, log.source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pm4py's own notices are not our concern
        ref = pm4py.read_xes(str(path), show_progress_bar=False)
        dfg, starts, ends = pm4py.discover_dfg(ref)
        variants = pm4py.get_variants(ref)
        perf, _, _ = pm4py.discover_performance_dfg(ref)
    assert {(e["source"], e["target"]): e["frequency"] for e in got.edges} == dict(dfg)
    assert got.start_activities == dict(starts)
    assert got.end_activities == dict(ends)
    assert {tuple(v["activities"]): v["count"] for v in got.variants} == {
        tuple(k): (v if isinstance(v, int) else len(v)) for k, v in variants.items()
    }
    # Durations: pm4py's mean performance DFG, compared on the most frequent edge.
    top = got.edges[0]
    assert (top["source"], top["target"]) in perf
    assert top["median_seconds"] == pytest.approx(perf[(top["source"], top["target"])]["median"])


def test_csv_case_log_equals_xes(shared_data: Path) -> None:
    logs = shared_data / "process_logs"
    a = CaseLog(read_case_log(logs / "running-example.csv", case_column="case:concept:name"))
    b = CaseLog(read_xes(logs / "running-example.xes"))
    assert discover(a, a.source).as_dict() == discover(b, b.source).as_dict()


def test_xes_export_round_trip(shared_data: Path) -> None:
    table = read_xes(shared_data / "process_logs" / "helpdesk.xes.gz")
    again = read_xes(io.BytesIO(xes_bytes(table)))
    a, b = CaseLog(table), CaseLog(again)
    assert discover(a, a.source).as_dict() == discover(b, b.source).as_dict()


def test_filters_and_conformance(shared_data: Path) -> None:
    log = CaseLog(read_xes(shared_data / "process_logs" / "running-example.xes"))
    full = discover(log, log.source)
    top = discover(log, log.source, top_variants=2, min_frequency=2)
    assert len(top.variants) == 2
    assert all(e["frequency"] >= 2 for e in top.edges)
    assert sum(top.start_activities.values()) == sum(v["count"] for v in top.variants)
    designed = [
        "register request",
        "examine thoroughly",
        "check ticket",
        "decide",
        "reject request",
    ]
    conf = conformance(full, designed)
    assert conf["cases"] == 6
    assert 0 < conf["following"] < 6
    assert conf["deviations"][0]["count"] >= 1


GOOD_EVENT = (
    '<event><string key="concept:name" value="a"/>'
    '<date key="time:timestamp" value="2024-01-01T00:00:00+00:00"/></event>'
)


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        (b"<log><trace><event>", "malformed XES"),
        (b"<html><body/></html>", "not an XES log"),
        (
            b'<log><trace><event><string key="concept:name" value="a"/></event></trace></log>',
            "no time:timestamp",
        ),
        (
            b'<log><trace><event><date key="time:timestamp" value="yesterday"/>'
            b'<string key="concept:name" value="a"/></event></trace></log>',
            "not an ISO 8601 timestamp",
        ),
        (b"", "malformed XES"),
    ],
)
def test_malformed_xes_is_a_clear_error(tmp_path: Path, doc: bytes, words: str) -> None:
    path = tmp_path / "bad.xes.gz"
    path.write_bytes(gzip.compress(doc))
    with pytest.raises(ValidationFailed) as err:
        read_case_log(path)
    assert words in err.value.message


def test_empty_log_and_unknown_format(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xes"
    empty.write_text('<log xmlns="http://www.xes-standard.org/"></log>')
    with pytest.raises(ValidationFailed, match="no events"):
        CaseLog(read_case_log(empty))
    other = tmp_path / "log.json"
    other.write_text("{}")
    with pytest.raises(ValidationFailed, match="neither"):
        read_case_log(other)
    csv = tmp_path / "log.csv"
    csv.write_text("who,what\n1,a\n")
    with pytest.raises(ValidationFailed) as err:
        read_case_log(csv)
    assert err.value.field == "case_column"


def test_store_discovery_equals_file_discovery(
    shared_data: Path, runtime: Runtime, workspace: Workspace
) -> None:
    """Imported as events, a log discovers the same on either engine as from the file."""
    from safar.journeys import service
    from safar.journeys.importer import import_case_log

    table = read_xes(shared_data / "process_logs" / "helpdesk.xes.gz")
    summary = import_case_log(runtime.applier, table, workspace_id=workspace.id)
    assert summary.inserted == table.num_rows
    log = CaseLog(table)
    expected = discover(log, log.source).as_dict()
    with runtime.db.session() as session:
        got = service.discover(session, runtime.store, workspace_id=workspace.id)
    assert got.as_dict() == expected
