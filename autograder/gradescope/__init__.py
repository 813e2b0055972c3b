"""`python -m autograder gradescope --out autograder.zip`: the zip Gradescope's autograder wants.

The zip (autograder.gradescope.build) holds:
- setup.sh: installs bubblewrap (apt) and the kit from its own sdist shipped in the zip,
  then unpacks CIFAR-10 (a bundled archive, or a download) for the accuracy item;
- run_autograder: grades /autograder/submission into /autograder/results/results.json
  (autograder.gradescope.run_autograder), whatever the submission holds;
- source/: the sdist, the reference solutions (the zip is instructor-only; students never
  see it), the grading spec, the staff's overrides CSV when the spec's [overrides] names
  one (its items checked first), and gradescope.json (options); the course's held-out file
  (heldout.npz) only when built with --include-heldout, else the zip's spec names none and
  the held-out accuracy is measured on the public test batch, transformed;
- README.txt: what Gradescope's autograder timeout must be under the spec's missing_model
  (also printed when the zip is built).
"""
import os
import sys


def add_arguments(parser):
    parser.add_argument("--out", default="autograder.zip", help="zip to write")
    parser.add_argument("--spec", default=None, help="grading spec (default: the kit's)")
    parser.add_argument("--items", default=None,
                        help="comma-separated glob patterns of the items to grade (default: all)")
    parser.add_argument("--cifar-archive", default=None, metavar="cifar-10-python.tar.gz",
                        help="bundle this CIFAR-10 archive (default: setup.sh downloads it)")
    parser.add_argument("--include-heldout", action="store_true",
                        help="bundle the spec's heldout_file (the course's own held-out images; "
                        "default: left out, and Gradescope grades on the public test batch)")


def run(args):
    from autograder.grade.heldout import load_heldout_file
    from autograder.policy.overrides import OverrideError
    from autograder.gradescope.build import build_zip, heldout_file_of, heldout_note, \
        shipped_overrides, timeout_note
    from autograder.spec import SPEC_PATH
    if args.spec and not os.path.isfile(args.spec):
        print("autograder gradescope: spec %s does not exist" % args.spec, file=sys.stderr)
        return 2
    try:   # before the slow build: a bad overrides file is named at once
        shipped_overrides(args.spec or SPEC_PATH)
    except OverrideError as error:
        print("autograder gradescope: %s" % error, file=sys.stderr)
        return 2
    if args.cifar_archive and not os.path.isfile(args.cifar_archive):
        print("autograder gradescope: %s does not exist" % args.cifar_archive, file=sys.stderr)
        return 2
    include = bool(getattr(args, "include_heldout", False))
    try:
        private = heldout_file_of(args.spec or SPEC_PATH, args.items)
        if include and private is None:
            raise ValueError("--include-heldout: the spec's accuracy item names no heldout_file")
        if include:
            load_heldout_file(private)   # a broken file never reaches Gradescope
    except ValueError as error:   # HeldoutFileError included
        print("autograder gradescope: %s" % error, file=sys.stderr)
        return 2
    path = build_zip(args.out, spec_path=args.spec, items=args.items,
                     cifar_archive=args.cifar_archive, include_heldout=include)
    print("wrote %s (%d KB): upload it as the Gradescope autograder (Ubuntu base image)"
          % (path, os.path.getsize(path) // 1024))
    for note in (timeout_note(args.spec, args.items),
                 heldout_note(args.spec, args.items, include)):
        if note:
            print(note)
    return 0
