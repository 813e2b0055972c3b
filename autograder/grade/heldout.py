"""The instructor's private held-out images for the accuracy item (its spec key heldout_file).

The public CIFAR-10 test batch can be memorised or searched (a near-duplicate search finds
97% of the labels of its transformed images), so a course that wants held-out images no
student ever had keeps its own file in this layout:

    a NumPy .npz (read with allow_pickle=False: nothing in it is unpickled) holding
    - images: uint8 (N, 32, 32, 3), rows x columns x RGB, as an image library gives a
      photograph (a CIFAR-10 batch row is row.reshape(3, 32, 32).transpose(1, 2, 0)),
      N >= MIN_IMAGES;
    - labels: integers (N,), each 0..9 in CIFAR-10's class order (airplane ... truck).

write_heldout_file writes one from arrays; load_heldout_file validates one and says what is
wrong, naming the file. near_duplicates measures what a search of the public test batch
finds in it (`python -m autograder heldout check FILE`).
"""
import functools
import os

import numpy as np

from autograder.checks import kinds

MIN_IMAGES = 100       # fewer make the held-out accuracy too noisy to grade on
NUM_CLASSES = 10
IMAGE_SHAPE = (32, 32, 3)
SPEC_KEY = "heldout_file"
# A private image whose coarse layout lies this close (RMS, pixel levels) to a public test
# image's is a copy of it (perhaps flipped or slightly noisy). Distinct photographs lie
# further apart: the nearest test image of a CIFAR-10 training image, 5 levels at least.
COPY_RMS = 2.0


class HeldoutFileError(ValueError):
    """The held-out file cannot be used (missing, unreadable or not in the layout)."""


def heldout_path(item, spec_path, override=None):
    """
    The held-out file the accuracy `item` is graded on, as an absolute path, or None (the
    public test batch): `override` (the grade command's --heldout-file) if given, else the
    item's heldout_file, relative to the spec file's folder unless absolute.
    """
    if override:
        return os.path.abspath(str(override))
    named = str(item.extras.get(SPEC_KEY) or "")
    if not named:
        return None
    folder = os.path.dirname(os.path.abspath(str(spec_path)))
    return os.path.abspath(os.path.join(folder, os.path.expanduser(named)))


def heldout_files(items, spec_path, override=None):
    """The distinct held-out files (absolute paths, sorted) of the accuracy items among
    `items`: the files the grader must read and keep out of every sandbox."""
    paths = {heldout_path(item, spec_path, override) for item in kinds.saved_model_items(items)}
    return sorted(path for path in paths if path)


def load_heldout_file(path):
    """(images uint8 (N, 32, 32, 3), labels int64 (N,)) of the held-out file at `path`;
    HeldoutFileError naming the file and what is wrong. Read again only when it changes."""
    path = os.path.abspath(str(path))
    try:
        stat = os.stat(path)
    except OSError as error:
        raise HeldoutFileError("held-out file %s: cannot be read (%s)"
                               % (path, error.strerror or error))
    return _load(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _load(path, mtime_ns, size):
    """load_heldout_file's work, cached by (path, modification time, size)."""
    def wrong(what):
        return HeldoutFileError("held-out file %s: %s (expected an .npz with images uint8 "
                                "(N, 32, 32, 3) and labels 0..9 (N,), N >= %d; see "
                                "autograder/grade/heldout.py)" % (path, what, MIN_IMAGES))
    try:
        saved = np.load(path, allow_pickle=False)
        if not isinstance(saved, np.lib.npyio.NpzFile):   # a lone .npy array
            raise wrong("a single array, not an .npz of images and labels")
        with saved:
            names = set(saved.files)
            missing = sorted({"images", "labels"} - names)
            if missing:
                raise wrong("no %s array (it holds %s)" % (" or ".join(missing),
                                                             ", ".join(sorted(names)) or "nothing"))
            images, labels = saved["images"], saved["labels"]
    except HeldoutFileError:
        raise
    except (OSError, ValueError, EOFError) as error:   # not an .npz, or object arrays in it
        raise wrong("not a readable .npz without pickled objects (%s)" % error)
    if images.dtype != np.uint8:
        raise wrong("images are %s, not uint8 pixel levels" % images.dtype)
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise wrong("images have shape %s, not (N, 32, 32, 3)" % (images.shape,))
    if not np.issubdtype(labels.dtype, np.integer):
        raise wrong("labels are %s, not integers" % labels.dtype)
    if labels.shape != (len(images),):
        raise wrong("labels have shape %s for %d images" % (labels.shape, len(images)))
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise wrong("labels range over %d..%d, not 0..9" % (labels.min(), labels.max()))
    if len(images) < MIN_IMAGES:
        raise wrong("only %d images" % len(images))
    images = np.ascontiguousarray(images)
    images.setflags(write=False)   # the cached arrays are shared
    labels = labels.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def write_heldout_file(path, images, labels):
    """Write images (N, 32, 32, 3) uint8 and labels (N,) 0..9 in the layout, then check it by
    loading it back (HeldoutFileError if they do not fit). Returns the path."""
    np.savez_compressed(str(path), images=np.asarray(images), labels=np.asarray(labels))
    load_heldout_file(path)
    return path


def class_counts(labels):
    """Images of each class, CIFAR-10's class order."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES).tolist()


def coarse_layout(images):
    """(N, 96) features of HWC images: 4x4-pixel cell means, averaged with the mirror image
    (its right half repeats the left, so only the left is kept); flips and shifts of a pixel
    or two barely move it."""
    cells = np.asarray(images, dtype=np.float32).reshape(len(images), 8, 4, 8, 4, 3)
    means = cells.mean(axis=(2, 4))
    return ((means + means[:, :, ::-1]) / 2)[:, :, :4].reshape(len(images), -1)


def nearest_public(images, public_images, chunk=500):
    """(index of each image's nearest public image by coarse layout, its RMS distance)."""
    public = coarse_layout(public_images)
    public_norms = (public ** 2).sum(axis=1)
    found = coarse_layout(images)
    nearest, distances = [], []
    for start in range(0, len(found), chunk):
        part = found[start:start + chunk]
        squared = (part ** 2).sum(axis=1)[:, None] - 2 * part @ public.T + public_norms[None]
        index = np.argmin(squared, axis=1)
        nearest.append(index)
        distances.append(np.sqrt(np.maximum(squared[np.arange(len(part)), index], 0)
                                 / public.shape[1]))
    return np.concatenate(nearest), np.concatenate(distances)


def near_duplicates(images, labels, public_images, public_labels):
    """
    What a near-duplicate search of the public images finds in the held-out ones:
    {"copies": how many lie within COPY_RMS of a public image,
     "search_accuracy": share whose nearest public image has their label}.
    It finds 95-97% of the labels of transformed public test images; on photographs no
    student had it is a weak pixel-distance classifier (about 30% on CIFAR-10 training
    images), on random images chance (10%).
    """
    index, distance = nearest_public(images, public_images)
    return {"copies": int(np.sum(distance <= COPY_RMS)),
            "search_accuracy": float(np.mean(np.asarray(public_labels)[index]
                                             == np.asarray(labels)))}
