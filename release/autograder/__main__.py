"""`python -m autograder VERB ...` (also the `autograder` console script).

One module per verb, imported only when that verb runs, so a student copy of
the package (which ships only the self-check) still answers every verb. Each
verb module defines `add_arguments(parser)` and `run(args) -> int`.
"""
import argparse
import importlib
import sys

VERBS = {
    "release": ("autograder.release.build", "regenerate release/ from assignment/ and solutions/"),
    "grade": ("autograder.verbs.grade", "grade submissions (directory or .zip) into an output folder"),
    "check": ("autograder.selfcheck", "run the visible checks on the nndl/ in this folder"),
    "gradescope": ("autograder.gradescope", "build the Gradescope autograder.zip"),
    "similarity": ("autograder.verbs.similarity", "similarity report of a graded class"),
    "heldout": ("autograder.verbs.heldout", "make or check the course's own held-out images "
                "(the accuracy item's heldout_file)"),
}


def _load(module_name):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            return None  # the verb's module is not part of this copy
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    modules = {}
    for verb, (module_name, help_text) in VERBS.items():
        module = _load(module_name)
        sub = verbs.add_parser(verb, help=help_text if module else help_text + " (not in this copy)")
        if module is not None:
            module.add_arguments(sub)
            modules[verb] = module
    args = parser.parse_args(argv)
    if args.verb not in modules:
        print("autograder: '%s' is not available in this copy of the kit "
              "(students get only 'check')." % args.verb, file=sys.stderr)
        return 2
    return modules[args.verb].run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
