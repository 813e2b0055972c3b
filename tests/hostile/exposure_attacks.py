"""Submissions aimed at the grader process itself, generated at test time (the large ones too).

Each is a reference submission with one hostile part: notebooks the parser chokes on
(200,000 levels of nesting, 60 MB, a cell_type carrying markup), a graded function that
raises or prints 40 MB of text or markup, 3000 refused zip entries with long names, and
names the class run must survive (not UTF-8, a newline, leading dashes, very long,
differing only by case, the run's own file names). Expected outcomes use tests.hostile.corpus's item sets and message patterns.
"""
import json
import os
import shutil
import zipfile
from dataclasses import dataclass

from tests.hostile import corpus

INJECTION = "<script>alert(1)</script>\n# Heading"
HUGE_CHARS = 40_000_000


@dataclass
class Attack:
    name: bytes        # the submission's folder name in the class folder (any bytes)
    what: str
    zero: tuple = ()
    full: tuple = ()
    message: str = ""  # a regular expression that must appear in its results.json


def _notebook_json(cells):
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def deep_notebook(path, depth=200_000):
    path.write_text('{"cells": ' + "[" * depth + "]" * depth + "}")


def huge_notebook(path, megabytes=60):
    """A valid notebook padded with whitespace to `megabytes` (refused before parsing)."""
    head = _notebook_json([])[:-1]
    with open(path, "w") as f:
        f.write(head)
        pad = " " * 2 ** 20
        for _ in range(megabytes):
            f.write(pad)
        f.write("}")


def tiny_cells_notebook(path, cells):
    """Many empty cells: cheap on disk, expensive for nbformat to validate."""
    cell = '{"cell_type": "raw", "source": "", "metadata": {}}'
    path.write_text('{"cells": [%s], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
                    % ",".join([cell] * cells))


def markup_notebook(path):
    path.write_text(_notebook_json([{"cell_type": INJECTION, "source": "", "metadata": {}}]))


def display_name(name):
    """How the reports must show a name: undecodable bytes and newlines as visible escapes."""
    return name.decode("utf-8", "backslashreplace").replace("\n", "\\n")


def build(dest, model):
    """Write the attacks into the class folder `dest`; returns the list of Attack."""
    attacks = []

    def reference(name):
        return corpus.reference(os.fsdecode(os.path.join(os.fsencode(str(dest)), name)), model)

    deep_notebook(reference(b"deep_notebook") / "CNN.ipynb")
    attacks.append(Attack(b"deep_notebook", "a notebook nested 200,000 levels deep",
                          message=r"CNN\.ipynb is nested too deeply", **corpus.HARMLESS))

    huge_notebook(reference(b"huge_notebook") / "CNN-Layers.ipynb")
    attacks.append(Attack(b"huge_notebook", "a 60 MB notebook",
                          message=r"CNN-Layers\.ipynb is 60 MB, over the 20 MB limit",
                          **corpus.HARMLESS))

    markup_notebook(reference(b"markup_notebook") / "CNN-BatchNorm.ipynb")
    attacks.append(Attack(b"markup_notebook", "a cell_type carrying HTML and a markdown heading",
                          message=r"CNN-BatchNorm\.ipynb is not a valid notebook",
                          **corpus.HARMLESS))

    folder = reference(b"raise_40mb")
    corpus.append(folder, "conv_layers", corpus.hostile_conv(
        "raise ValueError('x' * %d)" % HUGE_CHARS))
    attacks.append(Attack(b"raise_40mb", "a graded function raising 40 MB of text",
                          message=r"ValueError: xxxx", **corpus.IN_FUNCTION))

    folder = reference(b"print_40mb")
    corpus.append(folder, "conv_layers", corpus.hostile_conv(
        "import sys\nsys.stdout.write('y' * %d)\nraise ValueError('y' * %d)"
        % (HUGE_CHARS, HUGE_CHARS)))
    attacks.append(Attack(b"print_40mb", "a graded function printing 40 MB, then raising it",
                          message=r"printed more than|ValueError: yyyy", **corpus.IN_FUNCTION))

    folder = reference(b"raise_markup")
    corpus.append(folder, "conv_layers", corpus.hostile_conv(
        "raise ValueError(%r)" % ("```\n" + INJECTION + "\n```\n[click](javascript:alert(1))")))
    attacks.append(Attack(b"raise_markup", "a graded function raising markdown and HTML",
                          message=r"ValueError", **corpus.IN_FUNCTION))

    folder = reference(b"many_notes_tmp")
    with zipfile.ZipFile(os.path.join(str(dest), "many_notes.zip"), "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, str(path.relative_to(folder)))
        for i in range(3000):       # 3000 refused entries with 5,000-character names: 15 MB of notes
            archive.writestr("../%s%d" % ("z" * 5000, i), b"")
    shutil.rmtree(folder)
    attacks.append(Attack(b"many_notes.zip", "3000 refused zip entries with 5,000-character names",
                          message=r"cut: \d+ characters[\s\S]*more notes \(cut\)",
                          **corpus.HARMLESS))

    # Names: the reference nndl only (no model, no notebooks), so only the accuracy is lost.
    for name in (b"caf\xe9 \xff\xfe", b"new\nline", b"-rf", b"--force", b"n" * 200,
                 b"Alice", b"alice", b"gradebook.csv", b"summary.md", b"batch.json",
                 b"report.html", b"+1+1", b"@SUM(A1)", b"=HYPERLINK(1)"):   # CSV formulas
        folder = reference(name)
        os.remove(folder / "cnn_model.npz")
        for notebook in corpus.NOTEBOOKS:
            os.remove(folder / notebook)
        attacks.append(Attack(name, "a submission named %r" % name,
                              message=r"cnn_model\.npz is missing", **corpus.NO_MODEL))
    return attacks
