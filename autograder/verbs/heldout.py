"""`python -m autograder heldout make|check`: the course's own held-out images.

    heldout make IMAGES.npy LABELS.npy --out FILE.npz   # e.g. CIFAR-10.1's two .npy files
    heldout check FILE.npz [--cifar-dir DIR]

`check` validates the layout (autograder/grade/heldout.py) and prints the count, the
images of each class, and what a near-duplicate search of the public test batch finds
in the file (when this machine has CIFAR-10): copies of public images, and the share of
labels the search gets right. Exit status 2 when the file is not usable.
"""
import os
import sys

import numpy as np

from autograder.grade import heldout

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")


def add_arguments(parser):
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    make = actions.add_parser("make", help="write a held-out file from an images .npy "
                              "(uint8 (N, 32, 32, 3)) and a labels .npy (N,)")
    make.add_argument("images", help=".npy of uint8 images (N, 32, 32, 3), rows x columns x RGB")
    make.add_argument("labels", help=".npy of labels (N,), 0..9 in CIFAR-10's class order")
    make.add_argument("--out", required=True, help="the held-out file to write (.npz)")
    check = actions.add_parser("check", help="validate a held-out file and measure what a "
                               "near-duplicate search of the public test batch finds in it")
    check.add_argument("file", help="the held-out file (.npz)")
    check.add_argument("--cifar-dir", default=None,
                       help="CIFAR-10 folder (default: $CIFAR10_DIR or the kit's datasets/)")


def run(args):
    try:
        if args.action == "make":
            make(args.images, args.labels, args.out)
            path = args.out
        else:
            path = args.file
        print(report(path, getattr(args, "cifar_dir", None)))
    except (heldout.HeldoutFileError, OSError, ValueError) as error:
        print("autograder heldout: %s" % error, file=sys.stderr)
        return 2
    return 0


def make(images_path, labels_path, out):
    """Write `out` from two .npy files (read without unpickling); it is then validated."""
    images = np.load(images_path, allow_pickle=False)
    labels = np.load(labels_path, allow_pickle=False)
    heldout.write_heldout_file(out, images, labels)
    os.chmod(out, 0o600)   # where the sandbox is only rlimits, file modes keep it out


def report(path, cifar_dir=None):
    """The lines `check` prints for the held-out file at `path`."""
    images, labels = heldout.load_heldout_file(path)
    counts = heldout.class_counts(labels)
    lines = ["%s: %d images in the held-out layout" % (path, len(labels)),
             "images per class: " + ", ".join("%s %d" % pair for pair in zip(CLASS_NAMES, counts))]
    if min(counts) < 0.5 * max(counts):
        lines.append("warning: the classes are unbalanced")
    if os.stat(path).st_mode & 0o004:
        lines.append("warning: every user can read this file; `chmod 600` it (a sandbox of "
                     "level rlimits keeps student code out by file modes only)")
    public = public_test_images(cifar_dir)
    if public is None:
        lines.append("near-duplicate search: not measured (no CIFAR-10 test batch here)")
        return "\n".join(lines)
    found = heldout.near_duplicates(images, labels, *public)
    lines.append("near-duplicate search of the %d public test images: %d copies of them; it "
                 "gets %.1f%% of the labels right (chance 10%%; on transformed public test "
                 "images it finds about 97%%)" % (len(public[1]), found["copies"],
                                                   100 * found["search_accuracy"]))
    if found["copies"]:
        lines.append("warning: copies of public test images can be looked up; remove them")
    return "\n".join(lines)


def public_test_images(cifar_dir=None):
    """(images uint8 (N, 32, 32, 3), labels) of the public test batch, or None."""
    from cs231n.data_utils import (TEST_BATCH, CIFAR10NotFoundError, find_cifar10_dir,
                                   load_CIFAR_batch)
    try:
        rows, labels = load_CIFAR_batch(find_cifar10_dir(cifar_dir) / TEST_BATCH)
    except (CIFAR10NotFoundError, OSError):
        return None
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels
