"""Check that your homework is complete and write the zip to hand in.

    python collect_submission.py            # writes cnn_submission.zip here
    python collect_submission.py --out FILE
    python collect_submission.py --force    # write the zip even with errors

Run it from the homework folder (the one holding the notebooks). It checks the
three notebooks, every nndl/*.py file and your saved model cnn_model.npz, says
what looks wrong and what to do, then writes a zip holding exactly those files.
The zip is the same byte for byte when the files are the same.

It refuses to write the zip (unless --force) only when the grade would
certainly suffer: a file missing or unreadable, an nndl function still raising
its stub's NotImplementedError, no saved model. Everything else is a warning:
a notebook that was never run, an executed copy written by
`jupyter nbconvert --execute` beside it (X.nbconvert.ipynb), a cell that
stopped with an error, CNN.ipynb's training cell still the stub, a saved model
that earns less than full credit or cannot be scored.

It measures the saved model as `python -m autograder check` does: its accuracy on
the validation images and the points that earns (without CIFAR-10 it says it could
not measure; set CIFAR10_DIR to your cifar-10-batches-py folder).
"""
import argparse
import ast
import json
import os
import sys
import zipfile

NOTEBOOKS = ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb")
# The release fills in these: the homework's nndl files, how its nndl stubs'
# messages end, the raise line that stands for a notebook cell you write, and the name
# of the model file the grader scores.
NNDL_FILES = None
NNDL_STUB_MARK = None
NOTEBOOK_STUB_MARK = None
MODEL_FILE = None
DEFAULT_ZIP = "cnn_submission.zip"
# `jupyter nbconvert --to notebook --execute X.ipynb` writes X.nbconvert.ipynb.
EXECUTED_SUFFIX = ".nbconvert.ipynb"
# A fixed time stamp (the earliest a zip can hold) makes the zip reproducible.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
RUN_IT = ("run it top to bottom and save it (Jupyter: Kernel > Restart & Run All), or "
          "`jupyter nbconvert --to notebook --execute --inplace %s`")


class Report(object):
    """What the checks found: errors (no zip without --force) and warnings."""

    def __init__(self):
        self.errors, self.warnings = [], []

    def error(self, text):
        self.errors.append(text)

    def warn(self, text):
        self.warnings.append(text)


def path_of(folder, relpath):
    return os.path.join(folder, *relpath.split("/"))


# ---- notebooks -------------------------------------------------------------------
def read_notebook(path):
    """The notebook's JSON; ValueError when it is not a notebook."""
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("no list of cells")
    return nb


def code_cells(nb):
    return [c for c in nb["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]


def text(value):
    return "".join(value) if isinstance(value, list) else str(value or "")


def has_run(cell):
    return cell.get("execution_count") is not None or bool(cell.get("outputs"))


def has_outputs(nb):
    return any(has_run(cell) for cell in code_cells(nb))


def sources(nb):
    return [text(c.get("source")) for c in nb["cells"] if isinstance(c, dict)]


def executed_copy(name):
    return name[:-len(".ipynb")] + EXECUTED_SUFFIX


def ask(question):
    """Yes or no from a student at a terminal; None when nobody can answer."""
    if not sys.stdin.isatty():
        return None
    try:
        answer = input(question + " [y/n] ").strip().lower()
    except EOFError:
        return None
    return answer.startswith("y")


def choose_notebook(folder, name, nb, choice, report):
    """The file to hand in as `name`: the notebook itself or its executed copy."""
    copy_name = executed_copy(name)
    copy_path = os.path.join(folder, copy_name)
    if not os.path.isfile(copy_path):
        return name, nb
    try:
        copy = read_notebook(copy_path)
    except (OSError, ValueError, UnicodeDecodeError):
        report.warn("%s is beside %s but is not a readable notebook; it is not handed in."
                    % (copy_name, name))
        return name, nb
    if choice == "original":
        return name, nb
    if choice == "executed":
        report.warn("handing in %s as %s (--use-executed)." % (copy_name, name))
        return copy_name, copy
    if not has_outputs(copy):
        return name, nb
    newer = os.path.getmtime(copy_path) > os.path.getmtime(os.path.join(folder, name))
    if not has_outputs(nb) and sources(nb) == sources(copy):
        report.warn("%s has no outputs, but %s (the same notebook, executed by nbconvert) has: "
                    "handing in %s as %s. To hand in %s as it is, use --use-original."
                    % (name, copy_name, copy_name, name, name))
        return copy_name, copy
    if newer or not has_outputs(nb):
        why = ("is newer than %s" % name) if newer else ("has outputs and %s has none" % name)
        differs = "" if sources(nb) == sources(copy) else " (their cells differ)"
        answer = ask("%s %s%s. Hand in %s as %s?" % (copy_name, why, differs, copy_name, name))
        if answer:
            report.warn("handing in %s as %s (you said yes)." % (copy_name, name))
            return copy_name, copy
        if answer is None:
            report.warn("%s %s%s; %s is handed in. If the executed copy is the one you mean, "
                        "rerun with --use-executed (or rename it to %s)."
                        % (copy_name, why, differs, name, name))
        return name, nb
    report.warn("an older %s is beside %s; it is not handed in (delete it if it is stale)."
                % (copy_name, name))
    return name, nb


def check_notebook_content(name, nb, report):
    """Warnings about how the chosen notebook ran."""
    cells = code_cells(nb)
    ran = [c for c in cells if has_run(c)]
    if not ran:
        report.warn("%s has no outputs: it was never run (or saved before it ran); "
                    % name + RUN_IT % name + ".")
    elif len(ran) < len(cells):
        report.warn("only %d of the %d code cells of %s have run; " % (len(ran), len(cells), name)
                    + RUN_IT % name + ".")
    for index, cell in enumerate(cells, start=1):
        label = ("cell %s" % cell["id"]) if cell.get("id") else ("code cell %d" % index)
        source = text(cell.get("source"))
        if NOTEBOOK_STUB_MARK and NOTEBOOK_STUB_MARK in source:
            report.warn("%s: %s is still the stub (%s); write your model and solver there, "
                        "run the notebook and save the model." % (name, label, NOTEBOOK_STUB_MARK))
            continue
        for output in cell.get("outputs") or []:
            if isinstance(output, dict) and output.get("output_type") == "error":
                report.warn("%s: %s stopped with %s: %s; fix it and run the notebook again."
                            % (name, label, output.get("ename"), text(output.get("evalue"))[:200]))


def check_notebooks(folder, choice, report):
    """{name in the zip: file to read} for the notebooks."""
    chosen = {}
    for name in NOTEBOOKS:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            report.error("missing: %s" % name)
            continue
        try:
            nb = read_notebook(path)
        except (OSError, ValueError, UnicodeDecodeError) as error:
            report.error("%s is not a valid notebook (%s)" % (name, error))
            chosen[name] = name
            continue
        source_name, nb = choose_notebook(folder, name, nb, choice, report)
        check_notebook_content(name, nb, report)
        chosen[name] = source_name
    return chosen


# ---- nndl and the model --------------------------------------------------------------
def stub_functions(tree):
    """Names of the functions whose stub raise is still there (from its message)."""
    names = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Raise):
            continue
        for part in ast.walk(node):
            if (isinstance(part, ast.Constant) and isinstance(part.value, str)
                    and NNDL_STUB_MARK in part.value):
                names.append(part.value.split(" in ")[0])
    return sorted(set(names))


def check_nndl(folder, report):
    chosen = {}
    for name in NNDL_FILES:
        relpath = "nndl/" + name
        path = path_of(folder, relpath)
        if not os.path.isfile(path):
            report.error("missing: %s" % relpath)
            continue
        chosen[relpath] = relpath
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), relpath)
        except (SyntaxError, ValueError, UnicodeDecodeError) as error:
            report.error("%s does not compile (%s)" % (relpath, error))
            continue
        left = stub_functions(tree)
        if left:
            report.error("%s still raises the stub's NotImplementedError in: %s (write them; "
                         "each is worth points)" % (relpath, ", ".join(left)))
    return chosen


def check_model(folder, report):
    path = path_of(folder, MODEL_FILE)
    if not os.path.isfile(path):
        report.error("missing: %s (the accuracy points are scored on it). Train and save your "
                     "model with the last section of CNN.ipynb (cs231n.model_io.save_model(model, "
                     "%r))." % (MODEL_FILE, MODEL_FILE))
        return {}
    if not zipfile.is_zipfile(path):
        report.error("%s is not a file written by cs231n.model_io.save_model" % MODEL_FILE)
    return {MODEL_FILE: MODEL_FILE}


def measure_model(folder):
    """The saved model priced by the autograder package shipped with the homework (the
    self-check's code, so both say the same): (ModelPrice, lines to print), or (None, why
    it could not be measured)."""
    sys.path.insert(0, os.path.abspath(folder))   # the homework's own autograder/ and cs231n/
    try:
        from autograder.selfcheck import describe_price, measure_model as measure
    except Exception as error:  # noqa: BLE001 - a broken copy must not stop the zip
        return None, "the autograder package beside this script could not be loaded (%s)" % error
    price = measure(folder)
    return price, describe_price(price)


def check_model_accuracy(folder, report):
    """Print the saved model's validation accuracy and points; warn when it earns less than
    full credit or cannot be scored, and say so when it could not be measured."""
    price, lines = measure_model(folder)
    if price is None or price.status == "unmeasured":
        why = lines if price is None else "CIFAR-10 could not be loaded (%s)" % price.problem
        print("Could not measure the accuracy of %s: %s. Set CIFAR10_DIR to your "
              "cifar-10-batches-py folder to see the points it earns."
              % (MODEL_FILE, why))
        return
    if price.status == "missing":
        return   # check_model has said so
    print(lines)
    if price.status == "unscorable":
        report.warn("%s could not be scored (%s): the grader would give it 0 points. Train and "
                    "save it again with the last section of CNN.ipynb."
                    % (MODEL_FILE, price.problem))
    elif price.below_full_credit:
        full = price.rule().full_credit_at
        earned = ("%.4g/%g points" % (price.points, price.item.points)) if price.item else \
            "less than full credit"
        report.warn("%s reaches %.1f%% validation accuracy, below the %g%% of full credit: it "
                    "earns %s. Was it saved by a short run (quick mode saves "
                    "cnn_model.quick.npz, never %s)? Train it with the last section "
                    "of CNN.ipynb." % (MODEL_FILE, 100 * price.accuracy, 100 * full, earned,
                                       MODEL_FILE))


def compression_of(name):
    """How a member is stored: the model file as it is (trained float weights deflate by
    about 8%, for 1.3 s of your CPU and 0.2 s of the grader's per submission to inflate
    33 MB again), everything else deflated."""
    return zipfile.ZIP_STORED if name.endswith(".npz") else zipfile.ZIP_DEFLATED


def write_zip(folder, zip_path, members):
    """Write {name in the zip: relative path of the file} into zip_path, in a fixed
    order with fixed metadata."""
    partial = zip_path + ".part"
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = compression_of(name)
            info.external_attr = 0o644 << 16
            with open(path_of(folder, members[name]), "rb") as f:
                archive.writestr(info, f.read())
    os.replace(partial, zip_path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_ZIP, help="zip to write (default %(default)s)")
    parser.add_argument("--folder", default=".", help="homework folder (default: here)")
    parser.add_argument("--force", action="store_true",
                        help="write the zip even when something is missing or unfinished")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--use-executed", dest="choice", action="store_const", const="executed",
                       help="hand in X%s in place of X.ipynb wherever there is one"
                       % EXECUTED_SUFFIX)
    which.add_argument("--use-original", dest="choice", action="store_const", const="original",
                       help="hand in the notebooks X.ipynb as they are")
    args = parser.parse_args(argv)

    report = Report()
    members = check_notebooks(args.folder, args.choice, report)
    members.update(check_nndl(args.folder, report))
    members.update(check_model(args.folder, report))
    if MODEL_FILE in members:
        check_model_accuracy(args.folder, report)
    for line in report.warnings:
        print("warning: " + line, file=sys.stderr)
    for line in report.errors:
        print("error: " + line, file=sys.stderr)
    if report.errors and not args.force:
        print("No zip written: the errors above would cost points. Fix them and run this "
              "again, or run `python collect_submission.py --force` to hand in what is here.",
              file=sys.stderr)
        return 1
    write_zip(args.folder, args.out, members)
    print("Wrote %s (%d files%s). Hand in this file." % (
        args.out, len(members), ", despite the errors above: --force" if report.errors else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
