"""Types of the C loops of the XES scanner (``_xesfast.c``); arguments are buffers
(``bytes``, ``bytearray`` or contiguous numpy arrays; outputs writable)."""

def find_lt(data: object, /) -> tuple[bytes, bool, bool]: ...
def classify(
    data: object,
    lt: object,
    kind: object,
    name: object,
    vs: object,
    ve: object,
    keyid: object,
    tail: int,
    /,
) -> None: ...
def nest(kind: object, name: object, max_depth: int, /) -> tuple[bytes, bytes] | None: ...
