"""Move nested data between processes as plain arrays + JSON, never as pickles.

pack(value) -> (arrays, structure): arrays maps keys to numpy arrays (for np.savez),
structure is JSON-ready and refers to them by key. unpack reverses it. Supported
values: dict (str keys), list, tuple, str, bool, int, float (incl. NaN/inf), None,
numpy arrays of non-object dtype and numpy scalars (kept with their dtype).
"""
import json
import math
import os
import zipfile

import numpy as np

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


def save(path_stem, value):
    """Write value to path_stem + '.npz' and path_stem + '.json' (each via a temp file + rename)."""
    arrays, structure = pack(value)
    _atomic_write(path_stem + ".json", json.dumps(structure).encode("utf-8"))
    partial = path_stem + ".npz.part"
    with open(partial, "wb") as f:
        np.savez(f, **arrays)
    os.replace(partial, path_stem + ".npz")


def load(path_stem, max_bytes=256 << 20):
    """
    Read what save() wrote, without unpickling and within max_bytes of array data.

    Raises ValueError for a malformed or oversized pair of files.
    """
    json_path, npz_path = path_stem + ".json", path_stem + ".npz"
    if os.path.getsize(json_path) > 64 * 1024 * 1024:
        raise ValueError("%s is too large" % os.path.basename(json_path))
    with open(json_path, "rb") as f:
        structure = json.loads(f.read().decode("utf-8"))
    with zipfile.ZipFile(npz_path) as archive:
        declared = sum(info.file_size for info in archive.infolist())
        if declared > max_bytes:
            raise ValueError("%s holds %d bytes of arrays (limit %d)"
                             % (os.path.basename(npz_path), declared, max_bytes))
    with np.load(npz_path, allow_pickle=False) as saved:
        arrays = {key: saved[key] for key in saved.files}
    return unpack(arrays, structure)


def _atomic_write(path, data):
    partial = path + ".part"
    with open(partial, "wb") as f:
        f.write(data)
    os.replace(partial, path)
