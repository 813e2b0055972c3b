"""What each student wrote, fingerprinted in a limited child process.

The grader never parses a submission's files itself: a child started as trusted code
(a clean environment, no user site, this kit first on the path) limits itself with
autograder.submission.parse_limited's rlimits (address space, CPU time, no file writes)
and, for each staged submission, reads nndl/*.py and the notebooks' solution cells
(plain JSON: cells whose nbgrader metadata says `solution`), decodes the .py files as
Python does and keeps only the code that runs (autograder.similarity.source: a copy
re-encoded with a coding line is its original; padding costs nothing; a submission whose
code is over the policy's max_code_tokens is refused whole), fingerprints it with
copydetect (tokens filtered: names become V, comments and whitespace drop out; k-gram
hashes winnowed, the boilerplate's hashes removed), parses the nndl modules that hold
graded functions and fingerprints each such function alone (functions.py; a module that
does not parse is named, and its submission compared by tokens), and reads cnn_model.npz
without pickles into a digest and a fixed sample of weights. It prints one JSON line per
submission. A submission whose files kill the child gets a problem, and a new child
carries on with the rest, as parse_limited does for notebooks.

copydetect hashes k-grams with Python's hash(), so every child runs under one fixed
PYTHONHASHSEED: fingerprints of different children must be comparable.

    extracts = extract_all(staged_roots, policy)   # [Extract], in the order given
"""
import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, field

import numpy as np

from autograder.similarity.functions import FunctionPrint, graded_functions, \
    module_functions
from autograder.similarity.source import OverBudget, UndecodableSource, code_only, \
    decode_python
from autograder.submission import layout
from autograder.submission.parse_limited import KIT_ROOT, ParseLimits

RELEASE_DIR = os.path.join(KIT_ROOT, "release")
LEXER_NAME = "submission.py"          # the name copydetect's warnings would show
LANGUAGE = "python"                   # named: looking the lexer up by file name costs 7 ms
HASH_SEED = "20240531"
SAMPLE_PER_ARRAY = 512                # weights sampled per array of cnn_model.npz
MAX_ARRAYS = 64                       # a model with more arrays is not compared
REPLY_BYTES_PER_SUBMISSION = 8 * 2 ** 20
NNDL_HEADER = "# ---- nndl/"        # the header line of an nndl module's part
BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
        "from autograder.similarity.extract import child_main; sys.exit(child_main(sys.argv[2:]))")


@dataclass
class Extract:
    """
    One submission's fingerprint (arrays as copydetect's CodeFingerprint holds them):
    - code: the text compared (nndl files, then solution cells, each under a header line,
      without comments, blank lines and string statements: source.code_only)
    - hashes, positions: winnowed k-gram hashes (boilerplate removed) and where they start
      in the filtered code; offsets: copydetect's map from filtered to raw positions
    - coverage: copydetect's token coverage (the denominator of a similarity)
    - model: None, or {"digest", "layout": [[name, shape], ...], "sample": float32 array}
    - functions: [FunctionPrint] of the graded functions written (hashes and lines as arrays)
    - unparsed: ["nndl/x.py (why)"]: modules Python could not parse (compared by tokens only)
    - problems: what could not be read (one line each)
    """
    code: str = ""
    hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    offsets: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    coverage: int = 0
    model: dict = None
    functions: list = field(default_factory=list)
    unparsed: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def extract_all(roots, policy, limits=ParseLimits(), release_dir=RELEASE_DIR):
    """[Extract] for the staged submission folders `roots`, read in limited children."""
    settings = {"limits": vars(limits), "k": policy.noise_tokens,
                "window": policy.guarantee_tokens - policy.noise_tokens + 1,
                "function_k": policy.function_tokens,
                "max_code_tokens": policy.max_code_tokens, "release_dir": release_dir}
    results = {}
    pending = list(range(len(roots)))
    while pending:
        reported, failure = _run_child([roots[i] for i in pending], settings, limits)
        for offset, extract in reported.items():
            results[pending[offset]] = extract
        rest = [i for n, i in enumerate(pending) if n not in reported]
        if rest:  # the child stopped on rest[0]: that one gets the reason
            results[rest[0]] = Extract(problems=[failure or "could not be read (no answer)"])
            rest = rest[1:]
        pending = rest
    return [results[i] for i in range(len(roots))]


def _run_child(roots, settings, limits):
    command = [sys.executable, "-s", "-P", "-c", BOOT, KIT_ROOT, json.dumps(settings)] + roots
    # RLIMIT_CPU of the child covers all its submissions; it gives each one its share in turn
    env = {"PYTHONHASHSEED": HASH_SEED, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1"}
    wall = limits.wall_seconds * max(1, len(roots))
    try:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=wall, env=env)
        out, code, timed_out = proc.stdout, proc.returncode, False
    except subprocess.TimeoutExpired as expired:
        out, code, timed_out = expired.stdout or b"", None, True
    reported = {}
    for line in out[:REPLY_BYTES_PER_SUBMISSION * len(roots)].splitlines():
        try:
            reply = json.loads(line)
            index = int(reply["index"])
            extract = _decode(reply)
        except (ValueError, KeyError, TypeError):
            continue
        if 0 <= index < len(roots):
            reported[index] = extract
    if timed_out:
        return reported, "took too long to read (more than %g s)" % wall
    if code == 0:
        return reported, ""
    return reported, "could not be read (the reader stopped with code %s): too large or " \
                     "too complex" % code


def _decode(reply):
    model = reply.get("model")
    if model is not None:
        model = {"digest": str(model["digest"]), "layout": model["layout"],
                 "sample": _array(model["sample"], np.float32)}
    return Extract(code=str(reply["code"]), hashes=_array(reply["hashes"], np.int64),
                   positions=_array(reply["positions"], np.int64),
                   offsets=_array(reply["offsets"], np.int64).reshape(-1, 2),
                   coverage=int(reply["coverage"]), model=model,
                   functions=[FunctionPrint(str(f["name"]), _array(f["hashes"], np.int64),
                                            _array(f["lines"], np.int32), str(f["source"]))
                              for f in reply.get("functions", [])],
                   unparsed=[str(u) for u in reply.get("unparsed", [])],
                   problems=[str(p) for p in reply.get("problems", [])])


def _array(text, dtype):
    return np.frombuffer(base64.b64decode(text), dtype=dtype).copy()


def _text(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


# -- the child -------------------------------------------------------------------------------
def _read_capped(path, cap):
    """Bytes of a regular file (no links, pipes or devices), refused over cap."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ValueError("is not a regular file")
        data = f.read(cap + 1)
    if len(data) > cap:
        raise ValueError("is over its size limit")
    return data


def solution_cells(notebook_text, solutions_only=True):
    """The source of the code cells (only those nbgrader marks as solutions, by default)."""
    content = json.loads(notebook_text)
    cells = content.get("cells", []) if isinstance(content, dict) else []
    sources = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        nbgrader = (cell.get("metadata") or {}).get("nbgrader") or {}
        if solutions_only and not (isinstance(nbgrader, dict) and nbgrader.get("solution")):
            continue
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) \
            else str(source)
        sources.append(source)
    return sources


def student_code(root, notebook_cap, solutions_only=True):
    """(parts, problems): nndl/*.py in name order, then the notebooks' solution cells, each
    part a (header line, text) pair."""
    parts, problems = [], []
    nndl = os.path.join(root, layout.NNDL_DIR)
    names = sorted(n for n in os.listdir(nndl) if n.endswith(".py")) if os.path.isdir(nndl) \
        else []
    for name in names:
        try:
            data = _read_capped(os.path.join(nndl, name), layout.MAX_SOURCE_BYTES)
            parts.append((NNDL_HEADER + name, decode_python(data)))
        except UndecodableSource as error:  # Python could not run it: not compared as garbage
            problems.append("nndl/%s could not be decoded as Python decodes it (%s): not "
                            "compared" % (name, error))
        except (OSError, ValueError) as error:
            problems.append("nndl/%s %s" % (name, getattr(error, "strerror", None) or error))
    for notebook in layout.NOTEBOOKS:
        path = os.path.join(root, notebook)
        if not os.path.lexists(path):
            continue
        try:
            cells = solution_cells(_read_capped(path, notebook_cap).decode("utf-8", "replace"),
                                   solutions_only)
        except RecursionError:
            problems.append("%s is nested too deeply to be read" % notebook)
            continue
        except (OSError, ValueError) as error:
            problems.append("%s %s" % (notebook, getattr(error, "strerror", None) or error))
            continue
        for n, source in enumerate(cells):
            parts.append(("# ---- %s, solution cell %d" % (notebook, n + 1), source))
    return parts, problems


def boilerplate_parts(release_dir):
    """The release's stubs and every code cell of its notebooks (trusted: the kit's own)."""
    parts, _ = student_code(release_dir, layout.MAX_NOTEBOOK_BYTES, solutions_only=False)
    return parts


def compared_parts(parts, budget=None, release_texts=frozenset()):
    """The parts reduced to the code that runs (source.code_only); a part exactly as
    released is left empty (all boilerplate: no need to lex it). OverBudget when their
    code weighs more than `budget` code tokens in all."""
    kept, weight = [], 0
    for header, text in parts:
        if (header, text) in release_texts:
            kept.append((header, ""))
            continue
        code, part_weight = code_only(text, None if budget is None else budget - weight)
        weight += part_weight
        kept.append((header, code))
    return kept


def fingerprint(parts, k, window, boilerplate_hashes=()):
    """
    copydetect's fingerprint of the parts (each tokenised and hashed alone, so no k-gram
    spans two files or cells): (code, hashes, positions, offsets, coverage), positions
    in the filtered text of all parts, offsets mapping them back into `code`.
    """
    from copydetect.utils import filter_code, get_document_fingerprints, get_token_coverage
    boilerplate_hashes = np.asarray(boilerplate_hashes, np.int64)
    chunks, hashes, positions, offsets = [], [], [], []
    raw_start = filtered_start = coverage = 0
    for header, text in parts:
        chunk = "%s\n%s\n\n" % (header, text)
        body_start = raw_start + len(header) + 1
        filtered, part_offsets = filter_code(text, LEXER_NAME, LANGUAGE)
        shift = body_start - filtered_start      # raw = filtered + offset + shift
        offsets.append([[filtered_start, shift]])
        if len(part_offsets):
            offsets.append(np.asarray(part_offsets, np.int64) + [filtered_start, shift])
        if len(filtered) >= k:
            _, index = get_document_fingerprints(filtered, k, window, boilerplate_hashes)
            coverage += int(get_token_coverage(index, k, len(filtered)))
            hashes += [h for h, where in index.items() for _ in where]
            positions += [p + filtered_start for where in index.values() for p in where]
        chunks.append(chunk)
        raw_start += len(chunk)
        filtered_start += len(filtered) + k      # a gap: copied slices never join two parts
    offsets = np.concatenate(offsets).astype(np.int64) if offsets else np.zeros((0, 2), np.int64)
    # sorted by position, as searchsorted needs (copydetect records a leading comment's
    # entry at position -1, after its [0, 0])
    offsets = offsets[np.argsort(offsets[:, 0], kind="stable")]
    return ("".join(chunks), np.array(hashes, np.int64), np.array(positions, np.int64),
            offsets, coverage)


def model_summary(path, cap):
    """{"digest", "layout", "sample"} of an .npz (no pickles): the digest covers every array,
    the layout and the sample the numeric ones (text arrays, such as model_io's constructor
    arguments, are in the digest only)."""
    import io
    data = _read_capped(path, cap)
    digest = hashlib.sha256()
    arrays, samples = [], []
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        names = sorted(npz.files)
        if len(names) > MAX_ARRAYS:
            raise ValueError("holds %d arrays (at most %d are compared)" % (len(names), MAX_ARRAYS))
        for name in names:
            value = np.asarray(npz[name])
            digest.update(repr((name, value.shape, value.dtype.str)).encode())
            if value.dtype.kind not in "fiub":  # model_io's version and constructor arguments
                digest.update(np.ascontiguousarray(value).tobytes())
                continue
            flat = np.ascontiguousarray(value, np.float32).ravel()
            digest.update(flat.tobytes())
            arrays.append([name, list(value.shape)])
            where = np.linspace(0, flat.size - 1, min(SAMPLE_PER_ARRAY, flat.size)).astype(int) \
                if flat.size else np.zeros(0, int)
            samples.append(flat[where])
    sample = np.concatenate(samples) if samples else np.zeros(0, np.float32)
    return {"digest": digest.hexdigest(), "layout": arrays, "sample": sample.astype(np.float32)}


def written_functions(parts, graded, k, release_texts=frozenset()):
    """([function reply], [unparsed]) of the nndl parts: each graded function's fingerprint
    (functions.module_functions), and the modules Python could not parse."""
    found, unparsed = [], []
    for header, text in parts:
        if not header.startswith(NNDL_HEADER) or (header, text) in release_texts:
            continue
        name = header[len(NNDL_HEADER):]
        result = module_functions(name[:-len(".py")], text, graded, k)
        if result.unparsed:
            unparsed.append("nndl/%s (%s)" % (name, result.unparsed))
        found += [{"name": f.name, "hashes": _text(np.array(f.hashes, np.int64)),
                   "lines": _text(np.array(f.lines, np.int32)), "source": f.source}
                  for f in result.functions]
    return found, unparsed


def _reply(index, root, settings, boilerplate_hashes, release_texts=frozenset(), graded=None):
    notebook_cap = int(float(settings["limits"]["file_mb"]) * 2 ** 20)
    parts, problems = student_code(root, notebook_cap)
    budget = int(settings["max_code_tokens"])
    functions, unparsed = [], []
    try:
        kept = compared_parts(parts, budget, release_texts)
        # parsed only once the budget has weighed the text
        functions, unparsed = written_functions(parts, graded or {}, settings["function_k"],
                                                release_texts)
    except OverBudget:  # compared whole or not at all: never a part of it
        kept = []
        problems.append("too large to compare in the budget (more than %d code tokens, "
                        "max_code_tokens): review it by hand" % budget)
    problems += ["%s does not parse as Python: compared by tokens only" % u for u in unparsed]
    code, hashes, positions, offsets, coverage = fingerprint(kept, settings["k"],
                                                             settings["window"],
                                                             boilerplate_hashes)
    model = None
    model_path = os.path.join(root, layout.MODEL_FILE)
    if os.path.lexists(model_path):
        try:
            summary = model_summary(model_path, layout.MAX_MODEL_BYTES)
            model = dict(summary, sample=_text(summary["sample"]))
        except MemoryError:
            problems.append("%s is too large to compare" % layout.MODEL_FILE)
        except Exception as error:  # whatever the file provokes is about the file
            problems.append("%s could not be read (%s)" % (layout.MODEL_FILE,
                                                           type(error).__name__))
    return {"index": index, "code": code, "hashes": _text(hashes), "positions": _text(positions),
            "offsets": _text(offsets), "coverage": coverage, "model": model,
            "functions": functions, "unparsed": unparsed, "problems": problems}


def child_main(argv):
    """Child entry point: argv = [settings as JSON, staged root, ...]; one JSON line each."""
    import resource
    from autograder.submission.parse_limited import _limit_self
    settings = json.loads(argv[0])
    roots = argv[1:]
    per_submission = int(settings["limits"]["cpu_seconds"])
    _limit_self(dict(settings["limits"], cpu_seconds=per_submission * (len(roots) + 1)))
    k, window = settings["k"], settings["window"]
    release = boilerplate_parts(settings["release_dir"])
    _, boilerplate, _, _, _ = fingerprint(compared_parts(release), k, window)
    release_texts = frozenset(release)
    graded = graded_functions({header[len(NNDL_HEADER):-len(".py")]: text
                               for header, text in release if header.startswith(NNDL_HEADER)})
    unique_boilerplate = np.unique(boilerplate)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    for index, root in enumerate(roots):
        # this submission's CPU share: past it SIGXCPU stops the child on this one
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (min(spent + per_submission, hard), hard))
        try:
            reply = _reply(index, root, settings, unique_boilerplate, release_texts, graded)
        except MemoryError:
            reply = {"index": index, "code": "", "hashes": "", "positions": "", "offsets": "",
                     "coverage": 0, "model": None,
                     "problems": ["needs too much memory to be read"]}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0
