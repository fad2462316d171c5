"""Stream rows out of JSONL, CSV and Parquet files, each with its line (or row) number.

Readers never load a whole file: text formats are read line by line (gzip allowed), Parquet
in record batches. Each yields ``(line, record)`` where ``record`` is a dict, or ``(line,
error)`` when the line itself cannot be read (malformed JSON), so the importer can report it
and carry on.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from safar.errors import ValidationFailed

FORMATS = ("jsonl", "csv", "parquet")
PARQUET_BATCH = 10_000


@dataclass(slots=True)
class BadLine:
    """A line that could not even be read as a record."""

    message: str


def detect_format(path: Path, fmt: str | None) -> str:
    """Return the file's format from ``fmt`` or its name (``.csv``, ``.jsonl.gz``, ...)."""
    if fmt:
        value = fmt.strip().lower()
        if value in ("json", "ndjson"):
            value = "jsonl"
        if value not in FORMATS:
            raise ValidationFailed(
                f"--format: unknown format {fmt!r}; use one of {', '.join(FORMATS)}",
                field="format",
            )
        return value
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    found = {
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "jsonl",
        ".csv": "csv",
        ".tsv": "csv",
        ".parquet": "parquet",
        ".pq": "parquet",
    }.get(ext)
    if found is None:
        raise ValidationFailed(
            f"--format: cannot tell the format of {path.name}; pass --format jsonl, csv or parquet",
            field="format",
        )
    return found


class _Counted:
    """Binary reader that tells how many bytes of the file on disk have been consumed."""

    def __init__(self, path: Path) -> None:
        self.raw = open(path, "rb")  # noqa: SIM115 - closed by the reader's finally
        self.size = path.stat().st_size

    def position(self) -> int:
        return self.size if self.raw.closed else self.raw.tell()

    def text(self) -> io.TextIOWrapper:
        stream: IO[bytes] = self.raw
        if self.raw.read(2) == b"\x1f\x8b":
            self.raw.seek(0)
            stream = gzip.GzipFile(fileobj=self.raw)  # type: ignore[assignment]
        else:
            self.raw.seek(0)
        return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")

    def close(self) -> None:
        self.raw.close()


class Reader:
    """Iterate one file's records; ``done`` and ``total`` drive the progress bar."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self._counted: _Counted | None = None
        self._rows_done = 0
        self.total = 0
        self.unit = "bytes"
        self.columns: list[str] | None = None
        if fmt == "parquet":
            import pyarrow.parquet as pq

            try:
                self._pq = pq.ParquetFile(path)
            except Exception as exc:
                raise ValidationFailed(
                    f"file: {path.name} is not a readable Parquet file ({type(exc).__name__})",
                    field="file",
                ) from None
            self.total = self._pq.metadata.num_rows
            self.unit = "rows"
            self.columns = list(self._pq.schema_arrow.names)
        else:
            self._counted = _Counted(path)
            self.total = self._counted.size
            if fmt == "csv":
                self.columns = self._csv_header()

    def close(self) -> None:
        """Release the file when the records are not read to the end."""
        if self._counted is not None:
            self._counted.close()

    @property
    def done(self) -> int:
        if self._counted is not None:
            return self._counted.position()
        return self._rows_done

    def _csv_header(self) -> list[str]:
        assert self._counted is not None
        stream = self._counted.text()
        try:
            first = stream.readline()
        except UnicodeDecodeError:
            raise ValidationFailed(
                f"file: {self.path.name} is not UTF-8 text", field="file"
            ) from None
        finally:
            stream.detach()
            self._counted.raw.seek(0)
        if not first.strip():
            raise ValidationFailed(f"file: {self.path.name} has no header line", field="file")
        self._delimiter = _sniff_delimiter(first, self.path)
        return next(csv.reader([first], delimiter=self._delimiter))

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
        try:
            if self.fmt == "jsonl":
                yield from self._jsonl()
            elif self.fmt == "csv":
                yield from self._csv()
            else:
                yield from self._parquet()
        finally:
            if self._counted is not None:
                self._counted.close()

    def _jsonl(self) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
        assert self._counted is not None
        stream = self._counted.text()
        line_no = 0
        while True:
            try:
                line = stream.readline()
            except UnicodeDecodeError:
                yield line_no + 1, BadLine("line is not UTF-8 text")
                return
            if not line:
                return
            line_no += 1
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield line_no, BadLine(f"malformed JSON ({exc})")
                continue
            if not isinstance(value, dict):
                yield line_no, BadLine("line must be a JSON object")
                continue
            yield line_no, value

    def _csv(self) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
        assert self._counted is not None and self.columns is not None
        stream = self._counted.text()
        reader = csv.reader(stream, delimiter=self._delimiter)
        header = self.columns
        width = len(header)
        start = 1
        try:
            next(reader)  # the header, already read
            for cells in reader:
                line = start + 1
                start = reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                if len(cells) != width:
                    yield (
                        line,
                        BadLine(f"row has {len(cells)} cells; the header has {width} columns"),
                    )
                    continue
                yield line, dict(zip(header, cells, strict=True))
        except UnicodeDecodeError:
            yield start + 1, BadLine("line is not UTF-8 text")
        except csv.Error as exc:
            yield start + 1, BadLine(f"unreadable CSV ({exc})")

    def _parquet(self) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
        row = 0
        for batch in self._pq.iter_batches(batch_size=PARQUET_BATCH):
            for record in batch.to_pylist():
                row += 1
                self._rows_done = row
                yield row, record


def _sniff_delimiter(header: str, path: Path) -> str:
    if path.name.lower().removesuffix(".gz").endswith(".tsv") or (
        "\t" in header and "," not in header
    ):
        return "\t"
    if ";" in header and "," not in header:
        return ";"
    return ","
