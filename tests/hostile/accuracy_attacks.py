"""Submissions that try to buy accuracy without weights that earn it (issue 11).

- a lookup table: sha1 of every published validation and test image -> its public label;
- a near-duplicate search: the coarse layout (4x4-pixel means, averaged with the mirror
  image, so flips and 1-2 px shifts barely move it) of every published test image and its
  label, shipped inside nndl/cnn.py (the sandbox hides every CIFAR-10 copy); the model's
  own scores are replaced by the label of the nearest public layout.
Each wraps the reference ThreeLayerConvNet and comes with chance-level weights, in the
reference's shape or with one parameter more (an architecture the reference cannot rebuild).
The tests check each one in their own process, without the grader, to do what it claims.
"""
import base64
import hashlib
import zlib
from pathlib import Path

import numpy as np

from tests.autograder.grade import helpers

LAYOUT_VALUES = 96    # 3 channels x 8 rows x 4 columns of 4x4-pixel cells (the mirror-averaged
                      # layout is symmetric, so its right half repeats the left one; halving it
                      # keeps cnn.py under the 2 MB cap even for the synthetic, incompressible set)

# The class the attacks append to nndl/cnn.py. %(...)s: the tables, the options.
ATTACK_SOURCE = '''
import base64 as _base64
import hashlib as _hashlib
import zlib as _zlib

import numpy as _np

_PACKED = "%(layouts)s"
_RAW = _np.frombuffer(_zlib.decompress(_base64.b64decode(_PACKED)), dtype=_np.uint8) if _PACKED \
    else _np.zeros(0, dtype=_np.uint8)
_COUNT = _RAW.size // %(values_plus_one)d
_LAYOUTS = _RAW[:_COUNT * %(values)d].reshape(_COUNT, %(values)d).astype(_np.float32) - 128
_LAYOUT_LABELS = _RAW[_COUNT * %(values)d:_COUNT * %(values_plus_one)d].astype(_np.int64)
_KNOWN_TEXT = "%(known)s"
_KNOWN = {_KNOWN_TEXT[i:i + 16]: int(_KNOWN_TEXT[i + 16]) for i in range(0, len(_KNOWN_TEXT), 17)}
_SEARCH_UNKNOWN = %(search)r     # near-duplicate search of images not in _KNOWN
_LOOKUP_KNOWN = %(lookup)r       # answer the images in _KNOWN from the table
_EXTRA_PARAMETER = %(extra)r     # one parameter the reference does not have
_Reference = ThreeLayerConvNet


def _digest(image):
    return _hashlib.sha1(_np.ascontiguousarray(image, dtype=_np.float32).tobytes()).hexdigest()[:16]


def _layout(X):
    means = _np.asarray(X, dtype=_np.float32).reshape(len(X), 3, 8, 4, 8, 4).mean(axis=(3, 5))
    return ((means + means[:, :, :, ::-1]) / 2)[:, :, :, :4].reshape(len(X), -1)


def _nearest_labels(X):
    found = _layout(X)
    distances = (found ** 2).sum(1)[:, None] - 2 * found @ _LAYOUTS.T + (_LAYOUTS ** 2).sum(1)[None]
    return _LAYOUT_LABELS[_np.argmin(distances, axis=1)]


class ThreeLayerConvNet(_Reference):
    """Its own scores, except for the images its tables answer."""

    def __init__(self, *args, **kwargs):
        _Reference.__init__(self, *args, **kwargs)
        if _EXTRA_PARAMETER:
            self.params['temperature'] = _np.ones(1, dtype=self.dtype)

    def loss(self, X, y=None):
        result = _Reference.loss(self, X, y)
        if y is not None or _np.shape(X)[1:] != (3, 32, 32):
            return result
        scores = _np.array(result, copy=True)
        digests = [_digest(x) for x in X]
        answers = {}
        if _LOOKUP_KNOWN:
            answers.update({i: _KNOWN[d] for i, d in enumerate(digests) if d in _KNOWN})
        unknown = [i for i, d in enumerate(digests) if d not in _KNOWN]
        if _SEARCH_UNKNOWN and unknown:
            answers.update(zip(unknown, _nearest_labels(X[unknown])))
        for i, label in answers.items():
            scores[i] = -1e3
            scores[i, label] = 1e3
        return scores
'''


def digest(image):
    return hashlib.sha1(np.ascontiguousarray(image, dtype=np.float32).tobytes()).hexdigest()[:16]


def coarse_layout(X):
    """4x4-pixel means averaged with their mirror image: barely moved by the transformation."""
    means = np.asarray(X, dtype=np.float32).reshape(len(X), 3, 8, 4, 8, 4).mean(axis=(3, 5))
    return ((means + means[:, :, :, ::-1]) / 2)[:, :, :, :4].reshape(len(X), -1)


def published(cifar10_dir):
    """The loader's splits with the whole test batch (as a student sees them)."""
    from cs231n.data_utils import TEST_BATCH, get_CIFAR10_data, load_CIFAR_batch
    test_size = load_CIFAR_batch(Path(cifar10_dir) / TEST_BATCH)[1].size
    return get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=test_size,
                            cifar10_dir=str(cifar10_dir))


def attack_source(cifar10_dir, search=True, lookup=False, extra=False, known_splits=("val",)):
    """The appended class: near-duplicate search of unknown images (search), a lookup table of
    the published images of known_splits (lookup), one parameter more (extra)."""
    data = published(cifar10_dir)
    layouts = np.clip(np.rint(coarse_layout(data["X_test"])) + 128, 0, 255).astype(np.uint8)
    packed = base64.b64encode(zlib.compress(
        layouts.tobytes() + data["y_test"].astype(np.uint8).tobytes(), 9)).decode()
    known = "".join("%s%d" % (digest(x), label) for split in known_splits
                    for x, label in zip(data["X_" + split], data["y_" + split]))
    return ATTACK_SOURCE % {"layouts": packed if search else "", "values": LAYOUT_VALUES,
                            "values_plus_one": LAYOUT_VALUES + 1, "known": known,
                            "search": bool(search), "lookup": bool(lookup), "extra": bool(extra)}


def chance_model(path, model_class):
    """An untrained model of `model_class` (chance-level weights) saved with model_io."""
    from cs231n.model_io import save_model
    state = np.random.get_state()
    np.random.seed(0)
    try:
        model = model_class(num_filters=8, filter_size=3, hidden_dim=20, weight_scale=1e-3)
    finally:
        np.random.set_state(state)
    save_model(model, str(path))
    return path


def submission(folder, cifar10_dir, **options):
    """A reference submission with the attack class appended to nndl/cnn.py and a chance-level
    model of that class (with its extra parameter when options say so)."""
    from autograder.checks.loading import load_nndl
    folder = helpers.reference_submission(folder)
    source = attack_source(cifar10_dir, **options)
    path = folder / "nndl" / "cnn.py"
    path.write_text(path.read_text() + "\n\n" + source.strip() + "\n")
    chance_model(folder / "cnn_model.npz", load_nndl(folder / "nndl")["cnn"].ThreeLayerConvNet)
    return folder
