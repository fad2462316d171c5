"""Arrow arrays to and from numpy buffers without ``pa.array`` or ``Array.to_numpy``.

Those two import pandas (0.7-1.8 s) the first time they run when it is installed, which a
one-shot ``safar journeys discover`` would pay on every call.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def ints(a: np.ndarray) -> pa.Array:
    """An int64 Arrow array of a numpy integer array."""
    a = np.ascontiguousarray(a, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(a), [None, pa.py_buffer(a)])


def bools(m: np.ndarray) -> pa.Array:
    """A boolean Arrow array of a numpy mask."""
    bits = np.packbits(m, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(m), [None, pa.py_buffer(bits)])


def np_bools(arr: pa.Array) -> np.ndarray:
    """A boolean Arrow array (nulls read as false) as a numpy mask."""
    if arr.null_count:
        arr = pc.fill_null(arr, False)
    bits = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little", count=arr.offset + len(arr))[arr.offset :].astype(
        bool
    )


def np_ints(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An integer Arrow array without nulls as a numpy array (no copy for one chunk).

    (``to_numpy`` would import pandas, about 0.7-1.8 s, the first time.)
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        raise ValueError("nulls in an integer column")
    dtype = np.dtype(
        f"{'u' if pa.types.is_unsigned_integer(arr.type) else 'i'}{arr.type.bit_width // 8}"
    )
    buf = arr.buffers()[1]
    return np.frombuffer(buf, dtype=dtype, count=arr.offset + len(arr))[arr.offset :]


def texts(values: list[str]) -> pa.Array:
    """A large-string Arrow array of Python strings."""
    enc = [v.encode() for v in values]
    offs = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in enc], out=offs[1:])
    return pa.Array.from_buffers(
        pa.large_string(), len(enc), [None, pa.py_buffer(offs), pa.py_buffer(b"".join(enc))]
    )
