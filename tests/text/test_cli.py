from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safar.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SAFAR_DATA_DIR", str(tmp_path / "safar"))
    return tmp_path / "safar"


def test_analyze_jsonl(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "1", "text": "غذا سرد رسید و پیک بی‌ادب بود"}, ensure_ascii=False),
        json.dumps({"id": "2", "text": "Loved the new app, checkout is quick"}),
        "not json",
        json.dumps({"id": "4", "text": ""}),
    ]
    src.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n")
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["text", "analyze", "--input", str(src), "--output", str(out)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5
    first = rows[0]
    assert first["id"] == "1" and first["language"] == "fa"
    assert first["sentiment"]["label"] == "negative"
    assert set(first) >= {"emotion", "intent", "category", "key_phrases"}
    assert rows[1]["sentiment"]["label"] == "positive" and rows[1]["category"]["label"] == "app"
    assert rows[2]["id"] == "line-3" and "invalid JSON" in rows[2]["error"]
    assert rows[3]["id"] == "4" and rows[3]["error"] == "text: empty"
    assert "UTF-8" in rows[4]["error"]
    assert "5 lines (3 with errors)" in r.output


def test_analyze_missing_input(tmp_path: Path) -> None:
    r = runner.invoke(
        app, ["text", "analyze", "--input", str(tmp_path / "nope"), "--output", "x.jsonl"]
    )
    assert r.exit_code == 2 and "--input" in r.output


def test_few_shot_custom_taxonomy(tmp_path: Path, data_dir: Path) -> None:
    """Tens of examples per label replace the default category taxonomy locally."""
    folder = tmp_path / "labels"
    folder.mkdir()
    rows = []
    seeds = {
        "wifi": [
            "the wifi in the room keeps dropping",
            "no internet in my room",
            "wifi password does not work",
            "اینترنت اتاق قطعه",
            "وای فای هتل خیلی ضعیفه",
        ],
        "cleaning": [
            "the bathroom was dirty",
            "sheets were not changed",
            "room smelled and was not cleaned",
            "اتاق کثیف بود",
            "ملافه‌ها عوض نشده بود",
        ],
        "breakfast": [
            "breakfast was cold",
            "no vegetarian options at breakfast",
            "the buffet ran out of eggs",
            "صبحانه سرد بود",
            "صبحانه تنوع نداشت",
        ],
    }
    for label, texts in seeds.items():
        for t in texts:
            for suffix in ("", " again", " today", "!"):
                rows.append({"text": t + suffix, "category": label})
    with open(folder / "hotel.csv", "w", encoding="utf-8") as f:
        f.write("text,category\n")
        for row in rows:
            f.write(f'"{row["text"]}",{row["category"]}\n')
    r = runner.invoke(app, ["text", "train", "--data", str(folder)])
    assert r.exit_code == 0, r.output
    assert (data_dir / "text" / "models" / "local.joblib").exists()
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "x", "text": "the wifi was down all night"})
        + "\n"
        + json.dumps({"id": "y", "text": "صبحانه خیلی سرد و بی‌کیفیت بود"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["text", "analyze", "--input", str(src), "--output", str(out)])
    assert r.exit_code == 0, r.output
    res = [json.loads(line) for line in out.read_text().splitlines()]
    assert res[0]["category"]["label"] == "wifi"
    assert res[1]["category"]["label"] == "breakfast"
    # Tasks the CSV did not cover still come from the shipped default.
    assert res[0]["sentiment"]["label"] == "negative"
    assert "+local-" in res[0]["model_version"]


def test_train_rejects_bad_folder(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.csv").write_text("comment,label\nhi,a\n")
    r = runner.invoke(app, ["text", "train", "--data", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "'text' column" in r.output
    r = runner.invoke(app, ["text", "train", "--data", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "--data" in r.output


def test_topics(tmp_path: Path) -> None:
    texts = (
        [f"the delivery was late again order {i}" for i in range(15)]
        + [f"the courier was late and rude {i}" for i in range(10)]
        + [f"great pizza tasty cheese {i}" for i in range(15)]
        + [f"pizza was tasty and hot {i}" for i in range(10)]
        + [f"پیک دیر رسید و غذا سرد بود {i}" for i in range(15)]
        + [f"پیتزا خوشمزه و داغ بود {i}" for i in range(15)]
    )
    src = tmp_path / "t.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(
                json.dumps({"text": t, "timestamp": f"2026-0{1 + i % 3}-10T10:00:00+00:00"}) + "\n"
            )
    r = runner.invoke(
        app, ["text", "topics", "--input", str(src), "--n-topics", "2", "--period", "month"]
    )
    assert r.exit_code == 0, r.output
    assert "[en]" in r.output and "[fa]" in r.output
    assert "late" in r.output and "pizza" in r.output
    assert "2026-01" in r.output


@pytest.mark.slow
def test_evaluate_on_shared_data(tmp_path: Path) -> None:
    shared = Path(os.environ.get("SAFAR_SHARED_DATA_DIR", "/work/shared/data"))
    if not (shared / "MANIFEST.md").exists():
        pytest.skip("shared data not available")
    r = runner.invoke(app, ["text", "evaluate", "--data", str(shared), "--limit", "400"])
    assert r.exit_code == 0, r.output
    for name in ("snappfood", "airline", "armanemo", "banking77"):
        assert name in r.output
    bank = next(line for line in r.output.splitlines() if line.startswith("banking77"))
    assert float(bank.split()[5]) > 0.85  # accuracy of the shipped BANKING77 model
    assert "ParsBERT" in r.output
