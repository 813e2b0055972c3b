"""Check that your homework is complete and write the zip to hand in.

    python collect_submission.py            # writes cnn_submission.zip here
    python collect_submission.py --out FILE

Run it from the homework folder (the one holding the notebooks). It checks that
the three notebooks, every nndl/*.py file and your saved model cnn_model.npz
are there and readable, then writes a zip holding exactly those files. The zip
is the same byte for byte when the files are the same.
"""
import argparse
import json
import os
import sys
import zipfile

NOTEBOOKS = ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb")
# The release fills in the nndl files of the homework.
NNDL_FILES = ('__init__.py', 'cnn.py', 'conv_layer_utils.py', 'conv_layers.py', 'fc_net.py', 'layer_utils.py', 'layers.py', 'optim.py')
MODEL_FILE = "cnn_model.npz"
DEFAULT_ZIP = "cnn_submission.zip"
# A fixed time stamp (the earliest a zip can hold) makes the zip reproducible.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
STUB_MARK = "not implemented yet (YOUR CODE HERE)"


def required_files():
    """Paths (relative to the homework folder, '/'-separated) to hand in."""
    return list(NOTEBOOKS) + ["nndl/" + name for name in NNDL_FILES] + [MODEL_FILE]


def problems(folder):
    """List of human-readable reasons the submission is not complete."""
    found = []
    for relpath in required_files():
        path = os.path.join(folder, *relpath.split("/"))
        if not os.path.isfile(path):
            found.append("missing: %s" % relpath)
        elif relpath.endswith(".ipynb"):
            try:
                with open(path, encoding="utf-8") as f:
                    json.load(f)
            except (ValueError, UnicodeDecodeError) as error:
                found.append("%s is not a valid notebook (%s)" % (relpath, error))
        elif relpath.endswith(".py"):
            try:
                with open(path, encoding="utf-8") as f:
                    compile(f.read(), relpath, "exec")
            except (SyntaxError, UnicodeDecodeError) as error:
                found.append("%s does not compile (%s)" % (relpath, error))
        elif relpath == MODEL_FILE:
            if not zipfile.is_zipfile(path):
                found.append("%s is not a file written by cs231n.model_io.save_model" % relpath)
    return found


def unfinished(folder):
    """nndl files that still hold a stub's NotImplementedError."""
    names = []
    for name in NNDL_FILES:
        path = os.path.join(folder, "nndl", name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                if STUB_MARK in f.read():
                    names.append("nndl/" + name)
    return names


def write_zip(folder, zip_path):
    """Write the required files into zip_path, in a fixed order with fixed metadata."""
    partial = zip_path + ".part"
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relpath in sorted(required_files()):
            info = zipfile.ZipInfo(relpath, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(os.path.join(folder, *relpath.split("/")), "rb") as f:
                archive.writestr(info, f.read())
    os.replace(partial, zip_path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_ZIP, help="zip to write (default %(default)s)")
    parser.add_argument("--folder", default=".", help="homework folder (default: here)")
    args = parser.parse_args(argv)

    found = problems(args.folder)
    if found:
        print("The submission is not complete:", file=sys.stderr)
        for line in found:
            print("  - " + line, file=sys.stderr)
        if any(line.startswith("missing: " + MODEL_FILE) for line in found):
            print("Save your model with the last section of CNN.ipynb "
                  "(cs231n.model_io.save_model(model, %r))." % MODEL_FILE, file=sys.stderr)
        print("No zip written.", file=sys.stderr)
        return 1
    for relpath in unfinished(args.folder):
        print("warning: %s still has unimplemented parts" % relpath, file=sys.stderr)
    write_zip(args.folder, args.out)
    print("Wrote %s (%d files). Hand in this file." % (args.out, len(required_files())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
