"""Hostile submissions aimed at the sandbox's file exchange, its resources and hidden data.

Each is a reference submission (tests/hostile/corpus.py) with student code that, at
import time of nndl/layers.py (imported by every graded module) or inside
conv_forward_naive, does one of the things issue 11 found:
- plants links in its work folder at every name the grader used or uses (the staged
  model, the notebook, the spec, the request/result files and their .part twins),
  aimed at a canary folder, a 0600 host file and another submission's results.json;
- plants relative links to the reference worker's result files while its own
  conv_forward_naive is a stub;
- plants named pipes at those names;
- fills /tmp or the work folder past their caps;
- writes a forged reply frame (huge, or cut short) on the worker's reply pipe;
- reads the held-out CIFAR-10 images from every copy it can name.
Expected outcomes use corpus.Case (zero / full items, a message).
"""
import os
from dataclasses import dataclass

from tests.hostile import corpus
from tests.hostile.corpus import (AT_IMPORT, CONV, HARMLESS, IN_FUNCTION, Case, append,
                                  hostile_conv, prepend, reference)

# Every name the grader ever exchanged through the work folder (old and new layouts).
EXCHANGED_NAMES = ["cnn_model.npz", "CNN.ipynb", "spec.toml", "data"] + [
    "%s-%d%s" % (prefix, n, suffix) for prefix in ("in", "out") for n in range(80)
    for suffix in (".npz", ".json", ".npz.part", ".json.part")]


@dataclass
class Aims:
    """Host paths the hostile code aims at."""
    canary: str          # a world-writable folder: must stay as it is
    secret: str          # a 0600 file in the canary folder: content and mode must stay
    earlier_results: str # a results.json graded before the run (in the canary folder)
    victim_results: str  # another submission's results.json (graded in the same run)
    cifar_dirs: tuple    # host folders holding a CIFAR-10 copy (--cifar-dir, the kit's)


def plant(kind, targets):
    """Source run at import: plant `kind` ('link' or 'fifo') at every exchanged name, in the
    work folder (cwd) and in the shared and data folders if it can (name i gets target i,
    cycling); every error swallowed."""
    return (
        "import os as _os, itertools as _it\n"
        "_targets = %r\n"
        "_here = _os.getcwd()\n"
        "_shared = _os.path.join(_os.path.dirname(_here), 'shared')  # without bwrap\n"
        "for _folder in (_here, '/sandbox/shared', '/sandbox/data', _shared,\n"
        "                _os.path.join(_shared, 'data')):\n"
        "    for _name, _target in zip(%r, _it.cycle(_targets)):\n"
        "        _path = _os.path.join(_folder, _name)\n"
        "        try:\n"
        "            if %r == 'link':\n"
        "                _os.symlink(_target, _path)\n"
        "            else:\n"
        "                _os.mkfifo(_path)\n"
        "        except Exception:\n"
        "            pass\n" % (list(targets), EXCHANGED_NAMES, kind))


def fill(folder_expr, chunk_mb=8, max_mb=160):
    """Code writing up to max_mb into `folder_expr` (an expression), raising the write's
    OSError (ENOSPC past a tmpfs cap), or RuntimeError if nothing stopped it."""
    return ("import os\n"
            "with open(os.path.join(%s, 'filler.bin'), 'wb') as f:\n"
            "    for _ in range(%d):\n"
            "        f.write(b'x' * (%d << 20))\n"
            "        f.flush()\n"
            "raise RuntimeError('NOT CAPPED: wrote %d MB')\n"
            % (folder_expr, max_mb // chunk_mb, chunk_mb, max_mb))


FORGED_REPLY = (
    "import os, struct, time\n"
    "header = struct.pack('>QQ', %s, %s)\n"
    "for fd in range(3, 64):\n"
    "    try:\n"
    "        os.write(fd, header + b'{\"mess')\n"
    "    except OSError:\n"
    "        pass\n"
    "time.sleep(600)\n")

READ_HELDOUT = (
    "import os\n"
    "candidates = %r\n"
    "try:\n"
    "    from cs231n.data_utils import find_cifar10_dir\n"
    "    candidates.append(str(find_cifar10_dir()))\n"
    "except Exception:\n"
    "    pass\n"
    "import cs231n\n"
    "candidates.append(os.path.join(os.path.dirname(cs231n.__file__), 'datasets',\n"
    "                               'cifar-10-batches-py'))\n"
    "for folder in candidates:\n"
    "    try:\n"
    "        with open(os.path.join(folder, 'test_batch'), 'rb') as f:\n"
    "            if f.read(100):\n"
    "                raise RuntimeError('LEAKED held-out images from ' + folder)\n"
    "    except OSError:\n"
    "        pass\n"
    "raise PermissionError('every CIFAR-10 copy is hidden')\n")


def build(dest, model, aims):
    """Write the attacks into the class folder `dest`; returns the list of corpus.Case."""
    targets = [os.path.join(aims.canary, "pwned-by-link.txt"), aims.secret, aims.earlier_results,
               aims.victim_results, "/proc/self/root/" + aims.victim_results.lstrip("/")]
    cases = []

    folder = reference(os.path.join(dest, "links_everywhere"), model)
    prepend(folder, "layers", plant("link", targets))
    cases.append(Case("links_everywhere", "links planted at every exchanged name (model, "
                      "notebook, spec, inputs, results, .part files) aimed at host files",
                      message=r"Score: 42 / 42", **HARMLESS))

    # The old layout: <root>/submission-*/student/work/out-N beside <root>/reference/work/out-N.
    folder = reference(os.path.join(dest, "stub_links_to_reference"), model)
    prepend(folder, "layers", plant("link", ["../../../reference/work/" + name
                                             for name in EXCHANGED_NAMES]))
    append(folder, "conv_layers", hostile_conv("import numpy as np\n"
                                               "return np.zeros((x.shape[0], w.shape[0], 1, 1)), None"))
    cases.append(Case("stub_links_to_reference", "a stub conv_forward_naive plus links from its "
                      "result files to the reference worker's",
                      message=r"shape|relative error|does not match|differ", **IN_FUNCTION))

    folder = reference(os.path.join(dest, "fifos_everywhere"), model)
    prepend(folder, "layers", plant("fifo", targets))
    cases.append(Case("fifos_everywhere", "named pipes at every exchanged name",
                      message=r"Score: 42 / 42", **HARMLESS))

    folder = reference(os.path.join(dest, "fill_tmp"), model)
    append(folder, "conv_layers", hostile_conv(fill("'/tmp'")))
    cases.append(Case("fill_tmp", "writing /tmp past its cap",
                      message=r"No space left on device.*disk space is capped", **IN_FUNCTION))

    folder = reference(os.path.join(dest, "fill_work"), model)
    append(folder, "conv_layers", hostile_conv(fill("os.getcwd()")))
    cases.append(Case("fill_work", "writing the work folder past its cap",
                      message=r"No space left on device.*disk space is capped", **IN_FUNCTION))

    folder = reference(os.path.join(dest, "fill_at_import"), model)
    prepend(folder, "conv_layers", "def _fill():\n" + "\n".join(
        "    " + line for line in fill("os.getcwd()").splitlines()) + "\n\n_fill()\n")
    cases.append(Case("fill_at_import", "filling the work folder at import",
                      message=r"No space left on device.*disk space is capped", **AT_IMPORT))

    folder = reference(os.path.join(dest, "forged_huge_reply"), model)
    append(folder, "conv_layers", hostile_conv(FORGED_REPLY % ("1 << 40", "1 << 40")))
    cases.append(Case("forged_huge_reply", "a forged reply frame declaring 2 TB",
                      message=r"unreadable reply|did not finish", **IN_FUNCTION))

    folder = reference(os.path.join(dest, "forged_short_reply"), model)
    append(folder, "conv_layers", hostile_conv(FORGED_REPLY % ("1000", "0")))
    cases.append(Case("forged_short_reply", "a forged reply frame cut short, then silence",
                      message=r"did not finish within", **IN_FUNCTION))

    folder = reference(os.path.join(dest, "reads_every_cifar_copy"), model)
    append(folder, "conv_layers", hostile_conv(READ_HELDOUT % (list(aims.cifar_dirs),)))
    cases.append(Case("reads_every_cifar_copy", "reading test_batch from every CIFAR-10 copy",
                      message=r"every CIFAR-10 copy is hidden", **IN_FUNCTION))
    return cases


def weaker_level_cases(cases):
    """The attacks that make sense without a mount namespace (rlimits: /tmp is the host's,
    the work folder on disk is checked between requests)."""
    keep = {"links_everywhere", "stub_links_to_reference", "fifos_everywhere", "fill_work",
            "forged_huge_reply", "forged_short_reply"}
    out = []
    for case in cases:
        if case.name not in keep:
            continue
        if case.name == "fill_work":
            case = Case(case.name, case.what, message=r"grew past its limit of \d+ MB",
                        **IN_FUNCTION)
        out.append(case)
    return out


def retrain_notebook(kind, target):
    """A CNN.ipynb whose only cell leaves `kind` ('link', 'fifo', 'huge') as cnn_model.npz."""
    import json
    source = {
        "link": "import os\nos.symlink(%r, 'cnn_model.npz')" % target,
        "fifo": "import os\nos.mkfifo('cnn_model.npz')",
        "huge": "with open('cnn_model.npz', 'wb') as f:\n    f.truncate(%d)" % (300 << 20),
    }[kind]
    cell = {"cell_type": "code", "execution_count": None, "id": "plant", "metadata": {},
            "outputs": [], "source": source}
    return json.dumps({"cells": [cell], "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5})


def build_retrain(dest, model, aims):
    """Submissions without a model whose CNN.ipynb saves a link, a pipe or a 300 MB file."""
    cases = []
    for kind, message in (("link", r"cannot be opened|symbolic link"),
                          ("fifo", r"not a regular file"), ("huge", r"larger than 256 MB")):
        name = "retrain_%s_model" % kind
        folder = reference(os.path.join(dest, name), model)
        os.remove(os.path.join(folder, "cnn_model.npz"))
        with open(os.path.join(folder, "CNN.ipynb"), "w") as f:
            f.write(retrain_notebook(kind, aims.victim_results))
        cases.append(Case(name, "CNN.ipynb saving cnn_model.npz as a %s" % kind,
                          message=message, zero=(corpus.ACCURACY,)))
    return cases
