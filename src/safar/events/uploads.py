"""An uploaded import file, streamed to disk in the data dir with a size cap.

``receive_upload`` reads a ``multipart/form-data`` body chunk by chunk (python-multipart's
parser, as Starlette's own form parsing does) and writes the file part straight to its
destination, so a large upload never sits in memory or in the system's temp dir, and one
over the cap stops as soon as it passes it. ``save_upload`` copies a file Starlette already
parsed (the dashboard's form, read for its CSRF token) under the same cap.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.multipart import MultipartParser, parse_options_header

from safar.errors import PayloadTooLarge, ValidationFailed

COPY_CHUNK = 1024 * 1024
#: Form fields other than the file: a few options, never large.
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 200


@dataclass
class Upload:
    """What an import upload carried: the file (already on disk) and the option fields."""

    path: Path | None = None
    file_name: str = ""
    size: int = 0
    fields: dict[str, list[str]] = field(default_factory=dict)


def safe_name(name: str) -> str:
    """A file name safe to create (no folders, no control characters), keeping its suffixes
    (they tell the format) and any script (a Persian file name stays readable)."""
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f/:*?\"<>|]+", "_", base).strip(" .")
    return base[:200] or "upload"


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"file: larger than the import limit of {limit / 1024 / 1024:,.0f} MB "
        "(SAFAR_MAX_IMPORT_BYTES)",
        field="file",
    )


class _Parts:
    """python-multipart callbacks: the file part goes to disk, other parts to ``fields``."""

    def __init__(self, dest_dir: Path, limit: int) -> None:
        self.dest_dir = dest_dir
        self.limit = limit
        self.upload = Upload()
        self._headers: dict[bytes, bytes] = {}
        self._header = b""
        self._name = ""
        self._value = bytearray()
        self._file: IO[bytes] | None = None

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: setattr(self, "_header", self._header + d[s:e]),
            "on_header_value": self._header_value,
            "on_header_end": lambda: setattr(self, "_header", b""),
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._headers, self._header, self._value = {}, b"", bytearray()

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        key = self._header.lower()
        self._headers[key] = self._headers.get(key, b"") + data[start:end]

    def _headers_done(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition"))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if filename is not None:
            if self.upload.path is not None:
                raise ValidationFailed("file: send one file per import", field="file")
            name = safe_name(filename.decode("utf-8", "replace"))
            self.dest_dir.mkdir(parents=True, exist_ok=True)
            self.upload.path = self.dest_dir / name
            self.upload.file_name = name
            self._file = open(self.upload.path, "wb")  # noqa: SIM115 - closed in _end/close

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self.upload.size += end - start
            if self.upload.size > self.limit:
                raise too_large(self.limit)
            self._file.write(data[start:end])
            return
        self._value += data[start:end]
        if len(self._value) > MAX_FIELD_BYTES:
            raise PayloadTooLarge(f"{self._name}: field too long", field=self._name or "form")

    def _end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            return
        values = self.upload.fields.setdefault(self._name, [])
        if sum(len(v) for v in self.upload.fields.values()) >= MAX_FIELDS:
            raise ValidationFailed("form: too many fields", field="form")
        values.append(self._value.decode("utf-8", "replace"))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


async def receive_upload(
    content_type: str, chunks: AsyncIterator[bytes], dest_dir: Path, *, limit: int
) -> Upload:
    """Stream a multipart body: the file part into ``dest_dir`` (at most ``limit`` bytes).

    On any error the destination folder is removed and the error raised (4xx, naming the
    field).
    """
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ValidationFailed(
            "Content-Type: send multipart/form-data with the file in a part named file",
            field="Content-Type",
        )
    parts = _Parts(dest_dir, limit)
    parser = MultipartParser(boundary, parts.callbacks())
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except Exception as exc:
        parts.close()
        shutil.rmtree(dest_dir, ignore_errors=True)
        if isinstance(exc, ValidationFailed | PayloadTooLarge):
            raise
        raise ValidationFailed(
            f"body: not a readable multipart form ({exc})", field="body"
        ) from None
    parts.close()
    return parts.upload


def save_upload(source: IO[bytes], file_name: str, dest_dir: Path, *, limit: int) -> Upload:
    """Copy an already parsed upload into ``dest_dir``, under the same cap."""
    name = safe_name(file_name)
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / name
    size = 0
    try:
        with open(path, "wb") as out:
            while chunk := source.read(COPY_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                out.write(chunk)
    except Exception:
        shutil.rmtree(dest_dir, ignore_errors=True)
        raise
    return Upload(path=path, file_name=name, size=size)
