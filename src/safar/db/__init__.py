"""State store, as the kit provides it (``safar.kit.db``); this package keeps the migrations."""

from safar.kit.db import Base, BigId, Database, UTCDateTime, make_engine, utcnow

__all__ = ["Base", "BigId", "Database", "UTCDateTime", "make_engine", "utcnow"]
