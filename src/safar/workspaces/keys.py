"""The key check every request makes, remembered briefly and forgotten on revoke."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from safar.kit.db import Database
from safar.workspaces.service import KeyIdentity, authenticate, hash_key

KEY_CACHE_SECONDS = 30.0


@dataclass
class KeyCache:
    """Keys checked on every request; remembered briefly, forgotten on revoke.

    A key revoked through this process is refused at once and for good, even when a check
    that started before the revocation committed stores its stale answer afterwards; one
    revoked through another process is refused within ``KEY_CACHE_SECONDS``.
    """

    entries: dict[str, tuple[float, KeyIdentity | None]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, db: Database, raw: str) -> KeyIdentity | None:
        digest = hash_key(raw)
        now = time.monotonic()
        with self.lock:
            if digest in self.revoked:
                return None
            hit = self.entries.get(digest)
        if hit and now - hit[0] < KEY_CACHE_SECONDS:
            return hit[1]
        with db.session() as session:
            ident = authenticate(session, raw)
        with self.lock:
            if len(self.entries) > 10_000:
                self.entries.clear()
            if digest not in self.revoked:
                self.entries[digest] = (now, ident)
        return ident if digest not in self.revoked else None

    def revoke(self, key_hash: str) -> None:
        """Refuse the key with this stored hash from now on (revocation is final)."""
        with self.lock:
            self.revoked.add(key_hash)
            self.entries.pop(key_hash, None)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
