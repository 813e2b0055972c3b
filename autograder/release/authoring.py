"""Authoring aid for the instructor notebooks, working on assignment/*.ipynb in place.

The committed notebooks are the only source: edit them in Jupyter, then

    python -m autograder.release.authoring check [--fix]
        # nbgrader metadata and cell ids (--fix locks cells added in Jupyter)
    python -m autograder.release.authoring values [NAME...]
        # rewrite the numbers of the cells tagged `reference-values` from the reference
    python -m autograder.release.authoring outputs [--quick] [NAME...]
        # run the notebooks against the reference and store their outputs
    python -m autograder.release.authoring outputs --from DIR [NAME...]
        # or take the outputs of notebooks executed elsewhere, cell by cell

and `python -m autograder release`. The release reads the committed notebooks;
it never runs this module.
"""
import argparse
import sys
from pathlib import Path

import nbformat

from autograder.kit import ASSIGNMENT_DIR
from autograder.release.notebooks import NOTEBOOK_NAMES


def _paths(args):
    names = args.names or list(NOTEBOOK_NAMES)
    unknown = sorted(set(names) - set(NOTEBOOK_NAMES))
    if unknown:
        raise SystemExit("unknown notebook(s): %s (choose from %s)"
                         % (", ".join(unknown), ", ".join(NOTEBOOK_NAMES)))
    return [Path(args.assignment) / (name + ".ipynb") for name in names]


def check(args):
    from autograder.release import notebook_metadata
    notebooks = {}
    for path in _paths(args):
        nb = nbformat.read(str(path), as_version=4)
        if args.fix:
            locked = notebook_metadata.lock_new_cells(nb)
            if locked:
                nbformat.write(nb, str(path))
                print("%s: locked as provided cells: %s" % (path.name, ", ".join(locked)))
        notebooks[path.name] = nb
    found = notebook_metadata.problems(notebooks)
    for line in found:
        print(line, file=sys.stderr)
    print("%d problem(s) in %d notebook(s)" % (len(found), len(notebooks)))
    return 1 if found else 0


def values(args):
    from autograder.release import reference_values
    for path in _paths(args):
        changed = reference_values.update_notebook(path, args.cifar10_dir)
        print("%s: %s" % (path.name, ("numbers rewritten in " + ", ".join(changed)
                                      + " (refresh the outputs next)") if changed
                          else "numbers already the reference's"))
    return 0


def outputs(args):
    from autograder.release import notebook_outputs
    for path in _paths(args):
        if args.from_dir:
            executed = Path(args.from_dir) / path.name
            if not executed.exists():
                print("%s: no executed copy in %s" % (path.name, args.from_dir))
                continue
            missing = notebook_outputs.copy_outputs(executed, path)
        else:
            print("executing %s against the reference" % path.name, flush=True)
            missing = notebook_outputs.refresh_outputs(path, args.quick, args.cifar10_dir)
        print("%s: outputs stored%s" % (path.name, ", none for " + ", ".join(missing)
                                        if missing else ""))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default=str(ASSIGNMENT_DIR),
                        help="folder of the notebooks (default: the kit's assignment/)")
    parser.add_argument("--cifar10-dir", default=None,
                        help="CIFAR-10 folder for the kernel (default: the loader's)")
    verbs = parser.add_subparsers(dest="verb", required=True)
    for name, function, help_text in (
            ("check", check, "nbgrader metadata and cell ids"),
            ("values", values, "rewrite the quoted reference arrays"),
            ("outputs", outputs, "store outputs of a reference run")):
        verb = verbs.add_parser(name, help=help_text)
        verb.add_argument("names", nargs="*", metavar="NAME", help="notebooks (default: all)")
        verb.set_defaults(run=function)
    verbs.choices["check"].add_argument("--fix", action="store_true",
                                        help="lock cells that have no nbgrader metadata")
    verbs.choices["outputs"].add_argument("--quick", action="store_true",
                                          help="quick mode (CNN_HOMEWORK_QUICK=1)")
    verbs.choices["outputs"].add_argument("--from", dest="from_dir", metavar="DIR",
                                          help="copy outputs from executed notebooks in DIR")
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
