"""Expected outputs of the visible items, for a student copy (no reference there).

write_visible_expected(path) runs the reference on every visible item's public
cases and stores the cases and the reference observations in one .npz of plain
arrays (np.load(..., allow_pickle=False) reads it). Keys:

    "case|<item id>|<case index>|<case key>"
    "obs|<item id>|<case index>|<observation key>"
    "count|<item id>"      number of cases (0-d int64)

The file is byte-for-byte reproducible (fixed zip timestamps, sorted members),
so re-running the release changes nothing.
"""
import io
import zipfile
from pathlib import Path

import numpy as np

from autograder.checks import kinds, make_cases, observe_all, public_rng
from autograder.spec import load_spec

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _array(value):
    array = np.asarray(value)
    if array.dtype.kind == "O":
        raise TypeError("cannot store an object array")
    return array


def write_npz(path, arrays):
    """np.savez, deterministically (sorted members, fixed timestamps)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, _array(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())


def visible_items(spec):
    return [item for item in spec.items
            if item.visibility == "visible" and kinds.kind(item.kind).compares_outputs]


def write_visible_expected(path, spec=None, reference_modules=None):
    """
    Write the visible items' public cases and reference observations to `path`.

    Inputs:
    - path: the .npz to write (autograder/data/visible_expected.npz in a release)
    - spec: the spec to use (default: the kit's full spec)
    - reference_modules: the reference nndl (default: the kit's solutions/nndl)
    """
    from autograder.checks.loading import kit_reference_dir, load_nndl
    spec = spec or load_spec()
    if reference_modules is None:
        folder = kit_reference_dir()
        if folder is None:
            raise FileNotFoundError("no reference solutions/nndl beside this autograder package")
        reference_modules = load_nndl(folder)
    arrays = {}
    for item in visible_items(spec):
        cases = make_cases(item, public_rng(item))
        observations = observe_all(item, cases, reference_modules, probes=False)
        arrays["count|%s" % item.id] = np.array(len(cases), dtype=np.int64)
        for i, (case, obs) in enumerate(zip(cases, observations)):
            if "error" in obs:
                raise RuntimeError("the reference failed on %s case %d: %s" % (item.id, i, obs["error"]))
            for key, value in case.items():
                arrays["case|%s|%d|%s" % (item.id, i, key)] = value
            for key, value in obs.items():
                arrays["obs|%s|%d|%s" % (item.id, i, key)] = value
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_npz(path, arrays)
    return path


def load_visible_expected(path, item_id):
    """(cases, reference observations) of one item from the file; KeyError if absent."""
    with np.load(path, allow_pickle=False) as data:
        count_key = "count|%s" % item_id
        if count_key not in data.files:
            raise KeyError(item_id)
        count = int(data[count_key])
        cases = [dict() for _ in range(count)]
        observations = [dict() for _ in range(count)]
        for name in data.files:
            kind, _, rest = name.partition("|")
            if kind not in ("case", "obs") or not rest.startswith(item_id + "|"):
                continue
            index, _, key = rest[len(item_id) + 1:].partition("|")
            target = cases if kind == "case" else observations
            value = data[name]
            if kind == "case" and value.ndim == 0 and value.dtype.kind == "U":
                value = str(value[()])
            target[int(index)][key] = value
    return cases, observations
