"""The hostile and broken submissions corpus, generated into a folder at test time.

Each case is a reference submission with one hostile change (or a broken archive)
and its expected outcome on the CI item selection (CI_ITEMS, 42 points):
- zero: items that must score 0;
- full: items that must keep full marks (the rest of the submission is correct,
  so the hostile part must cost only what it breaks);
- message: a regular expression that must appear in the submission's results.json
  (what the student is told happened).
Large files (the 1 GB file, the zip bomb) are made here, in the test's tmp folder,
and never committed. Paths the hostile code aims at (a canary folder, another
submission's results, the repository) are baked into the generated sources.
"""
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS_NNDL = REPO_ROOT / "solutions" / "nndl"
NOTEBOOKS = ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb")

CONV = "conv_layers.conv_forward_naive.forward_secret"
POOL = "conv_layers.max_pool_forward_naive.forward_secret"
SOFTMAX = "layers.softmax_loss.loss"
CNN_FORWARD = "cnn.ThreeLayerConvNet.loss.forward"
ACCURACY = "cnn.ThreeLayerConvNet.accuracy"
CI_ITEMS = ",".join((CONV, POOL, SOFTMAX, CNN_FORWARD, ACCURACY))
CI_POINTS = 42
ALL = (CONV, POOL, SOFTMAX, CNN_FORWARD, ACCURACY)
# A hostile conv_forward_naive costs that item only; a hostile conv_layers module at
# import costs everything that imports it (cnn imports conv_layer_utils -> conv_layers).
IN_FUNCTION = dict(zero=(CONV,), full=(POOL, SOFTMAX, CNN_FORWARD, ACCURACY))
AT_IMPORT = dict(zero=(CONV, POOL, CNN_FORWARD, ACCURACY), full=(SOFTMAX,))
HARMLESS = dict(zero=(), full=ALL)
NO_MODEL = dict(zero=(ACCURACY,), full=(CONV, POOL, SOFTMAX, CNN_FORWARD))
NOTHING = dict(zero=ALL, full=())


@dataclass
class Case:
    name: str          # the submission's file or folder name in the class folder
    what: str          # the hostile behaviour, for failure messages
    zero: tuple = ()
    full: tuple = ()
    message: str = ""

    @property
    def id(self):
        return self.name[:-4] if self.name.endswith(".zip") else self.name


@dataclass
class Targets:
    """What the hostile code aims at (absolute paths on the grading machine)."""
    canary: str            # a world-writable folder outside the grading directories
    victim_results: str    # another submission's results.json
    port: int              # a TCP port the test listens on (loopback)
    token: str             # marks files the hostile code would create in the repository
    cifar_dir: str = ""


def signature():
    return "def conv_forward_naive(x, w, b, conv_param):\n"


def hostile_conv(body):
    """A conv_forward_naive whose body is `body` (appended: the later def wins)."""
    lines = ["", "", "def conv_forward_naive(x, w, b, conv_param):"]
    lines += ["    " + line for line in body.strip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def reference(folder, model):
    folder = Path(folder)
    shutil.copytree(SOLUTIONS_NNDL, folder / "nndl", ignore=shutil.ignore_patterns("__pycache__"))
    for name in NOTEBOOKS:
        (folder / name).write_text('{"cells": [], "metadata": {}, "nbformat": 4, '
                                   '"nbformat_minor": 5}\n')
    shutil.copyfile(model, folder / "cnn_model.npz")
    return folder


def append(folder, module, text):
    path = Path(folder) / "nndl" / (module + ".py")
    path.write_text(path.read_text() + text)


def prepend(folder, module, text):
    path = Path(folder) / "nndl" / (module + ".py")
    path.write_text(text + path.read_text())


def zip_folder(folder, archive, top=None):
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                relative = str(path.relative_to(folder))
                z.write(path, (top + "/" + relative) if top else relative)
    shutil.rmtree(folder)


def function_cases(t):
    """(name, what, body of conv_forward_naive, message)."""
    return [
        ("loop_in_function", "an infinite loop in a graded function",
         "while True:\n    pass", r"did not finish within"),
        ("alloc_8gb", "an 8 GB allocation",
         "import numpy as np\nbig = np.ones((1024, 1024, 1024), dtype=np.float64)\nreturn big, None",
         r"MemoryError"),
        ("fork_bomb", "forking hundreds of processes",
         "import os, time\nfor _ in range(400):\n    if os.fork() == 0:\n        time.sleep(3600)\n"
         "        os._exit(0)\nreturn None, None", r"BlockingIOError|Resource temporarily unavailable"),
        ("os_exit", "os._exit in a graded function",
         "import os\nos._exit(3)", r"exited with code 3"),
        ("sys_exit", "sys.exit in a graded function",
         "import sys\nsys.exit(0)", r"sys\.exit"),
        ("keyboard_interrupt", "raising KeyboardInterrupt",
         "raise KeyboardInterrupt", r"KeyboardInterrupt"),
        ("system_exit", "raising SystemExit",
         "raise SystemExit('bye')", r"exit\(bye\)"),
        ("kill_parent", "killing its parent process",
         "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nreturn None, None",
         r"PermissionError|Operation not permitted|ProcessLookupError"),
        ("kill_everything", "kill(-1): killing every process it may",
         "import os, signal\nos.kill(-1, signal.SIGKILL)\nreturn None, None",
         r"ProcessLookupError|killed by SIGKILL|exited with code|stopped answering"),
        ("print_100mb", "printing 100 MB",
         "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))\nreturn None, None",
         r"printed more than"),
        ("write_victim", "overwriting another submission's results.json",
         "with open(%r, 'w') as f:\n    f.write('{\"score\": 0}')\nreturn None, None"
         % t.victim_results, r"FileNotFoundError|PermissionError|OSError|Read-only"),
        ("read_solutions", "reading the reference solutions",
         "ns = {}\nsource = open(%r).read()\nexec(compile(source, 'ref', 'exec'), ns)\n"
         "return ns['conv_forward_naive'](x, w, b, conv_param)"
         % str(SOLUTIONS_NNDL / "conv_layers.py"), r"FileNotFoundError|PermissionError"),
        ("read_heldout", "reading the held-out images",
         "import pickle\nwith open(%r, 'rb') as f:\n    pickle.load(f, encoding='bytes')\n"
         "return None, None" % os.path.join(t.cifar_dir, "test_batch"),
         r"FileNotFoundError|PermissionError"),
        ("network", "opening a network connection",
         "import socket\ns = socket.create_connection(('127.0.0.1', %d), timeout=3)\n"
         "s.sendall(b'stolen')\nreturn None, None" % t.port,
         r"ConnectionRefusedError|OSError|unreachable|timed out"),
        ("segfault", "crashing the interpreter (segfault)",
         "import ctypes\nctypes.string_at(0)", r"SIGSEGV"),
        ("close_reply_pipe", "closing every file descriptor (the reply pipe too)",
         "import os\nos.closerange(3, 4096)\nreturn None, None",
         r"stopped answering|exited with code|killed by|did not finish|died|Bad file"),
        ("deep_recursion", "infinite recursion",
         "def f(n):\n    return f(n + 1)\nreturn f(0)", r"RecursionError"),
        ("monkeypatch_numpy", "monkey-patching numpy so every comparison passes",
         "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
         "np.testing.assert_allclose = lambda *a, **k: None\n"
         "np.array_equal = lambda *a, **k: True\n"
         "N, F = x.shape[0], w.shape[0]\nreturn np.zeros((N, F, 1, 1)), None",
         r"shape|relative error|does not match|differ"),
    ]


def import_cases():
    """(name, what, text put at the top of nndl/conv_layers.py, message)."""
    return [
        ("loop_at_import", "an infinite loop at import", "while True:\n    pass\n",
         r"importing it did not finish"),
        ("system_exit_at_import", "SystemExit at import", "raise SystemExit(1)\n",
         r"sys\.exit\(1\)"),
    ]


def build(dest, model, targets, big_files=True):
    """Write the corpus into `dest` (a class folder); returns the list of Case."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, what, body, message in function_cases(targets):
        folder = reference(dest / name, model)
        append(folder, "conv_layers", hostile_conv(body))
        cases.append(Case(name, what, message=message, **IN_FUNCTION))
    for name, what, text, message in import_cases():
        folder = reference(dest / name, model)
        prepend(folder, "conv_layers", text)
        cases.append(Case(name, what, message=message, **AT_IMPORT))

    folder = reference(dest / "non_utf8_source", model)
    path = folder / "nndl" / "conv_layers.py"
    path.write_bytes(b"GREETING = 'caf\xe9 \xff\xfe'  # latin-1 bytes, no coding line\n"
                     + path.read_bytes())
    cases.append(Case("non_utf8_source", "non-UTF-8 source", message=r"SyntaxError|utf-8",
                      **AT_IMPORT))

    folder = reference(dest / "write_outside", model)
    victims = [os.path.join(targets.canary, "pwned.txt"), targets.victim_results,
               str(REPO_ROOT / ("HOSTILE_%s.txt" % targets.token)),
               str(SOLUTIONS_NNDL / ("hostile_%s.py" % targets.token)),
               "/tmp/hostile_%s.txt" % targets.token]
    prepend(folder, "layers", "for _p in %r:\n    try:\n        with open(_p, 'w') as _f:\n"
            "            _f.write('hostile')\n    except Exception:\n        pass\n" % victims)
    cases.append(Case("write_outside", "writing files outside its folder (errors swallowed)",
                      message=r"Score: 42 / 42", **HARMLESS))

    folder = reference(dest / "own_gradient_check", model)
    (folder / "cs231n").mkdir()
    (folder / "cs231n" / "__init__.py").write_text("raise SystemExit('student cs231n')\n")
    (folder / "cs231n" / "gradient_check.py").write_text(
        "def eval_numerical_gradient(*a, **k):\n    return 0\n"
        "def eval_numerical_gradient_array(*a, **k):\n    return 0\n")
    cases.append(Case("own_gradient_check", "shipping its own cs231n/gradient_check.py",
                      message=r"cs231n", **HARMLESS))

    folder = reference(dest / "pickled_model", model)
    import numpy as np
    with np.load(model) as saved:
        entries = {name: saved[name] for name in saved.files}
    entries["param:W1"] = np.array([{"evil": "pickle"}], dtype=object)
    np.savez(folder / "cnn_model.npz", **entries)
    cases.append(Case("pickled_model", "a model file holding pickled objects",
                      message=r"[Pp]ickle|[Oo]bject arrays", **NO_MODEL))

    folder = reference(dest / "traversal_tmp", model)
    with zipfile.ZipFile(dest / "zip_traversal.zip", "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, str(path.relative_to(folder)))
        z.writestr("../escaped_%s.py" % targets.token, "print('escaped')\n")
        z.writestr("nndl/../../escaped2_%s.py" % targets.token, "print('escaped')\n")
        z.writestr("/tmp/absolute_%s.py" % targets.token, "print('absolute')\n")
        link = zipfile.ZipInfo("nndl/secrets_link.py")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, "/etc/passwd")
    shutil.rmtree(folder)
    cases.append(Case("zip_traversal.zip", "a zip with ../ paths, absolute paths and a symlink",
                      message=r"ignored zip entry", **HARMLESS))

    with zipfile.ZipFile(dest / "empty_zip.zip", "w"):
        pass
    cases.append(Case("empty_zip.zip", "an empty zip", message=r"missing", **NOTHING))

    (dest / "not_a_zip.zip").write_bytes(b"PK\x03\x04 this is not really a zip" * 10)
    cases.append(Case("not_a_zip.zip", "a corrupt zip", message=r"cannot read the submission",
                      **NOTHING))

    (dest / "empty_folder").mkdir()
    cases.append(Case("empty_folder", "an empty folder", message=r"missing", **NOTHING))

    folder = reference(dest / "invalid_notebooks", model)
    (folder / "CNN.ipynb").write_text("{ not json")
    (folder / "CNN-Layers.ipynb").write_text('{"cells": "not a list"}')
    (folder / "CNN-BatchNorm.ipynb").write_bytes(b"\xff\xfe\x00binary")
    cases.append(Case("invalid_notebooks", "invalid notebooks",
                      message=r"not valid JSON", **HARMLESS))

    if big_files:
        cases += build_big(dest, model, targets)
    return cases


def build_big(dest, model, targets):
    """The zip bomb and the 1 GB file (made at test time only)."""
    cases = []
    folder = reference(dest / "bomb_tmp", model)
    with zipfile.ZipFile(dest / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED,
                         compresslevel=1) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != "cnn_model.npz":
                z.write(path, "student/" + str(path.relative_to(folder)))
        zero = bytes(1 << 24)
        with z.open("student/cnn_model.npz", "w", force_zip64=True) as member:
            for _ in range(128):           # 2 GB of zeros, about 2 MB compressed
                member.write(zero)
    shutil.rmtree(folder)
    cases.append(Case("zip_bomb.zip", "a zip bomb (2 GB of zeros as the model file)",
                      message=r"zip bomb|compression ratio", **NO_MODEL))

    folder = reference(dest / "one_gb_file", model)
    with open(folder / "cnn_model.npz", "wb") as f:   # sparse: 1 GB long, little disk
        f.truncate(1 << 30)
    with open(folder / "big_data.bin", "wb") as f:
        f.truncate(1 << 30)
    cases.append(Case("one_gb_file", "a 1 GB model file (and a 1 GB stray file)",
                      message=r"larger than", **NO_MODEL))
    return cases


def build_correct(dest, model, count):
    """`count` correct submissions (folders and zips) named correct_1..count."""
    names = []
    for i in range(1, count + 1):
        folder = reference(Path(dest) / ("correct_%d" % i), model)
        if i % 2 == 0:
            zip_folder(folder, Path(dest) / ("correct_%d.zip" % i), top="correct_%d" % i)
            names.append("correct_%d.zip" % i)
        else:
            names.append("correct_%d" % i)
    return names


def main(argv=None):
    """`python -m tests.hostile.corpus CLASS_DIR MODEL`: write the corpus for a benchmark run
    (`python -m autograder.benchmark --also CLASS_DIR`; the canary and port point nowhere)."""
    import argparse
    import tempfile
    parser = argparse.ArgumentParser(prog="python -m tests.hostile.corpus")
    parser.add_argument("class_dir", help="folder to write the corpus into")
    parser.add_argument("model", help="a cnn_model.npz for the correct parts")
    args = parser.parse_args(argv)
    grades = os.path.join(os.path.abspath(args.class_dir) + "-grades", "correct_1")
    targets = Targets(canary=tempfile.mkdtemp(prefix="corpus-canary-"), port=9,
                      token="benchmark", victim_results=os.path.join(grades, "results.json"))
    cases = build(args.class_dir, args.model, targets)
    print("%d hostile and broken submissions in %s" % (len(cases), args.class_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
