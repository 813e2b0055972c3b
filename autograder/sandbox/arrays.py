"""Move nested data between processes as plain arrays + JSON, never as pickles.

pack(value) -> (arrays, structure): arrays maps keys to numpy arrays (the frame's payload),
structure is JSON-ready and refers to them by key. unpack reverses it. Supported
values: dict (str keys), list, tuple, str, bool, int, float (incl. NaN/inf), None,
numpy arrays of non-object dtype and numpy scalars (kept with their dtype).

encode / decode turn a JSON message plus such a value into one length-prefixed frame
(the worker's requests and replies travel as frames over pipes, never as files):
    HEADER (two big-endian uint64: JSON length, payload length) + JSON + payload
The JSON is {"message": {...}, "value": structure, "arrays": {key: [dtype, shape,
offset]}}; the payload holds each array's raw bytes (C order) at its offset. No
zip, CRC or copy through np.load: a 60 MB frame (a model and the accuracy images)
costs a memcpy each way instead of about 0.4 s. decode never unpickles: only plain
dtypes (bool, numbers, datetimes, strings; no object, structured or subarray
dtypes) are accepted, every array must lie inside the payload, and frames past
their caps are refused before they are read. Decoded arrays are writable views of
the frame's own buffer.
"""
import json
import math
import struct

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


ALIGN = 64          # payload offsets: every array starts on a 64-byte boundary
MAX_DIMS = 32
PLAIN_KINDS = "biufcmMUS"   # bool, ints, floats, complex, timedelta, datetime, str, bytes


def _dtype_text(array):
    dtype = array.dtype
    if dtype.kind not in PLAIN_KINDS or dtype.names is not None or dtype.subdtype is not None:
        raise PackError("cannot pass an array of dtype %s" % dtype)
    return dtype.str


def encode(message, value=None):
    """One frame (a bytearray) holding the JSON-ready dict `message` and a packable `value`."""
    arrays, structure = pack(value)
    layout, blocks, size = {}, [], 0
    for key, array in arrays.items():
        if not array.flags.c_contiguous:   # (np.ascontiguousarray would make 0-d arrays 1-d)
            array = array.copy(order="C")
        size = -(-size // ALIGN) * ALIGN
        layout[key] = [_dtype_text(array), list(array.shape), size]
        blocks.append((size, array))
        size += array.nbytes
    head = json.dumps({"message": message, "value": structure, "arrays": layout}).encode("utf-8")
    frame = bytearray(HEADER.size + len(head) + size)
    HEADER.pack_into(frame, 0, len(head), size)
    start = HEADER.size + len(head)
    frame[HEADER.size:start] = head
    body = np.frombuffer(frame, dtype=np.uint8, offset=start)
    for offset, array in blocks:
        if array.nbytes:   # through numpy: datetimes have no buffer interface of their own
            body[offset:offset + array.nbytes] = array.reshape(-1).view(np.uint8)
    del body
    return frame


def check_header(header, max_bytes):
    """(JSON length, payload length) of a frame header; FrameError if the frame is over
    max_bytes."""
    head_size, payload_size = HEADER.unpack(header)
    if head_size > MAX_JSON_BYTES or head_size + payload_size > max_bytes:
        raise FrameError("a frame of %d bytes (limit %d)" % (head_size + payload_size, max_bytes))
    return head_size, payload_size


def _array_of(payload, entry):
    """The array an "arrays" entry [dtype, shape, offset] describes, viewing payload."""
    if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str) \
            or not isinstance(entry[1], list) or len(entry[1]) > MAX_DIMS:
        raise FrameError("a malformed array entry")
    text, shape, offset = entry
    if not all(type(n) is int and n >= 0 for n in shape) or type(offset) is not int \
            or offset < 0 or len(text) > 32:
        raise FrameError("a malformed array entry")
    dtype = np.dtype(text)
    if dtype.kind not in PLAIN_KINDS or dtype.names is not None or dtype.subdtype is not None \
            or dtype.hasobject:
        raise FrameError("an array of dtype %s" % dtype)
    count = math.prod(shape)
    if offset + count * dtype.itemsize > len(payload):
        raise FrameError("an array past the end of its frame")
    return np.frombuffer(payload, dtype=dtype, count=count, offset=offset).reshape(shape)


def decode(head, payload, max_bytes):
    """(message dict, value) of a frame's two parts; FrameError for anything malformed.
    The arrays view `payload` when it is writable (a bytearray or a view of one); any other
    buffer is copied once, so decoded arrays are always writable."""
    try:
        if len(head) + len(payload) > max_bytes:
            raise FrameError("a frame of %d bytes (limit %d)" % (len(head) + len(payload),
                                                                 max_bytes))
        data = json.loads(bytes(head).decode("utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
            raise FrameError("a frame without a message")
        layout = data.get("arrays") or {}
        if not isinstance(layout, dict):
            raise FrameError("a malformed array table")
        writable = isinstance(payload, bytearray) or (isinstance(payload, memoryview)
                                                      and not payload.readonly)
        if layout and not writable:
            payload = bytearray(payload)
        arrays = {key: _array_of(payload, entry) for key, entry in layout.items()}
        return data["message"], unpack(arrays, data.get("value"))
    except FrameError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, RecursionError, OverflowError,
            MemoryError) as error:
        # Whatever a worker sent, it is only data: a bad frame is an error, never a crash.
        raise FrameError("a malformed frame (%s: %s)" % (type(error).__name__, str(error)[:200]))


def read_frame(stream, max_bytes):
    """The next (message, value) from a blocking binary stream; None at end of stream."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    head_size, payload_size = check_header(header, max_bytes)
    head = _read_exactly(stream, head_size)
    payload = _read_into(stream, payload_size)
    if head is None or payload is None:
        raise FrameError("a frame cut short")
    return decode(head, payload, max_bytes)


def _read_into(stream, size):
    """`size` bytes of the stream in one bytearray (None if it ends first)."""
    buffer = bytearray(size)
    view, filled = memoryview(buffer), 0
    while filled < size:
        got = stream.readinto(view[filled:])
        if not got:
            return None
        filled += got
    view.release()
    return buffer


def _read_exactly(stream, size):
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
