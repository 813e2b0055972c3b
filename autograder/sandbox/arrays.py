"""Move nested data between processes as plain arrays + JSON, never as pickles.

pack(value) -> (arrays, structure): arrays maps keys to numpy arrays (for np.savez),
structure is JSON-ready and refers to them by key. unpack reverses it. Supported
values: dict (str keys), list, tuple, str, bool, int, float (incl. NaN/inf), None,
numpy arrays of non-object dtype and numpy scalars (kept with their dtype).

encode / decode turn a JSON message plus such a value into one length-prefixed frame
(the worker's requests and replies travel as frames over pipes, never as files):
    HEADER (two big-endian uint64: JSON length, npz length) + JSON + npz
The JSON is {"message": {...}, "value": structure}; the npz holds the arrays
(absent when there are none, so small requests stay cheap). decode never unpickles
and refuses frames past its caps before reading them.
"""
import io
import json
import math
import struct
import zipfile

import numpy as np

HEADER = struct.Struct(">QQ")
MAX_JSON_BYTES = 64 * 1024 * 1024

ARRAY = "__array__"
SCALAR = "__scalar__"
TUPLE = "__tuple__"
FLOAT = "__float__"
DICT = "__dict__"


class PackError(TypeError):
    """A value that cannot travel as plain arrays + JSON."""


def pack(value):
    arrays = {}
    structure = _pack(value, arrays)
    return arrays, structure


def _pack(value, arrays):
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise PackError("cannot pass an object array (dtype %s)" % value.dtype)
        key = "a%d" % len(arrays)
        arrays[key] = value
        return {ARRAY: key}
    if isinstance(value, np.generic):
        if isinstance(value, np.object_):
            raise PackError("cannot pass a numpy object scalar")
        key = "a%d" % len(arrays)
        arrays[key] = np.asarray(value)
        return {SCALAR: key}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {FLOAT: repr(float(value))}
    if isinstance(value, tuple):
        return {TUPLE: [_pack(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_pack(v, arrays) for v in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise PackError("dict keys must be str, got %s" % type(key).__name__)
        return {DICT: {k: _pack(v, arrays) for k, v in value.items()}}
    raise PackError("cannot pass a value of type %s" % type(value).__name__)


def unpack(arrays, structure):
    if isinstance(structure, list):
        return [unpack(arrays, v) for v in structure]
    if isinstance(structure, dict):
        if ARRAY in structure:
            return arrays[structure[ARRAY]]
        if SCALAR in structure:
            return arrays[structure[SCALAR]][()]
        if TUPLE in structure:
            return tuple(unpack(arrays, v) for v in structure[TUPLE])
        if FLOAT in structure:
            return float(structure[FLOAT])
        if DICT in structure:
            return {k: unpack(arrays, v) for k, v in structure[DICT].items()}
        raise ValueError("unknown entry in packed structure: %s" % sorted(structure)[:3])
    return structure


class FrameError(ValueError):
    """A frame that is malformed or larger than allowed."""


def encode(message, value=None):
    """One frame (bytes) holding the JSON-ready dict `message` and a packable `value`."""
    arrays, structure = pack(value)
    head = json.dumps({"message": message, "value": structure}).encode("utf-8")
    npz = b""
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        npz = buffer.getvalue()
    return HEADER.pack(len(head), len(npz)) + head + npz


def check_header(header, max_bytes):
    """(JSON length, npz length) of a frame header; FrameError if the frame is over max_bytes."""
    head_size, npz_size = HEADER.unpack(header)
    if head_size > MAX_JSON_BYTES or head_size + npz_size > max_bytes:
        raise FrameError("a frame of %d bytes (limit %d)" % (head_size + npz_size, max_bytes))
    return head_size, npz_size


def decode(head, npz, max_bytes):
    """(message dict, value) of a frame's two parts; FrameError for anything malformed."""
    try:
        data = json.loads(bytes(head).decode("utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
            raise FrameError("a frame without a message")
        arrays = {}
        if npz:
            with zipfile.ZipFile(io.BytesIO(npz)) as archive:
                declared = sum(info.file_size for info in archive.infolist())
                if declared > max_bytes:
                    raise FrameError("a frame holding %d bytes of arrays (limit %d)"
                                     % (declared, max_bytes))
            with np.load(io.BytesIO(npz), allow_pickle=False) as saved:
                arrays = {key: saved[key] for key in saved.files}
        return data["message"], unpack(arrays, data.get("value"))
    except FrameError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, RecursionError, zipfile.BadZipFile,
            OSError, EOFError) as error:
        # Whatever a worker sent, it is only data: a bad frame is an error, never a crash.
        raise FrameError("a malformed frame (%s: %s)" % (type(error).__name__, str(error)[:200]))


def read_frame(stream, max_bytes):
    """The next (message, value) from a blocking binary stream; None at end of stream."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    head_size, npz_size = check_header(header, max_bytes)
    head = _read_exactly(stream, head_size)
    npz = _read_exactly(stream, npz_size) if npz_size else b""
    if head is None or npz is None:
        raise FrameError("a frame cut short")
    return decode(head, npz, max_bytes)


def _read_exactly(stream, size):
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
