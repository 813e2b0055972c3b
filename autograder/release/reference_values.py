"""Rewrite the expected arrays quoted in the instructor notebooks from the reference.

A notebook cell that quotes the reference's output carries the Jupyter tag
`reference-values` (View > Cell Toolbar > Tags). In such a cell every top-level
assignment

    correct_NAME = np.array(<nested list of numbers>)

quotes the value that NAME has at that point of the cell when the notebook runs
against the reference (solutions/): `correct_out` quotes `out`. This module runs
the notebook in a reference kernel, reads each NAME there and rewrites only the
numbers between `np.array(` and `)`; every other character of the notebook stays
as it is. The cells stay plain Python, so instructors edit them in Jupyter.
"""
import ast
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

from autograder.release.notebook_run import kernel_env

TAG = "reference-values"
QUOTE_PREFIX = "correct_"
DECIMALS = 8  # the notebooks print differences of about 1e-8: 8 decimals are enough


class QuoteError(ValueError):
    """A tagged cell does not hold a quote this module can rewrite."""


@dataclass(frozen=True)
class Quote:
    """One `correct_NAME = np.array(...)` of a tagged cell (offsets into its source)."""
    target: str   # correct_NAME
    source: str   # NAME
    statement_start: int  # where the assignment statement starts
    statement_end: int    # one past its end
    start: int    # first character of the literal
    end: int      # one past its last character


def is_tagged(cell):
    return cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])


def _offset(lines, lineno, col):
    """Character offset of (1-based line, UTF-8 byte column) in the joined lines."""
    before = sum(len(line) for line in lines[:lineno - 1])
    return before + len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8"))


def _is_np_array_call(node):
    return (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords
            and isinstance(node.func, ast.Attribute) and node.func.attr == "array"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "np")


def find_quotes(source, where="<cell>"):
    """The Quotes of a tagged cell's source, in order; QuoteError when there is none
    or one is not a plain nested list of numbers."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise QuoteError("%s: a %r cell must be plain Python (%s)" % (where, TAG, error))
    lines = source.splitlines(keepends=True)
    quotes = []
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.startswith(QUOTE_PREFIX)):
            continue
        target = node.targets[0].id
        if not _is_np_array_call(node.value):
            raise QuoteError("%s: %s must be assigned np.array(<numbers>)" % (where, target))
        literal = node.value.args[0]
        try:
            np.asarray(ast.literal_eval(literal), dtype=float)
        except (ValueError, TypeError, SyntaxError):
            raise QuoteError("%s: %s must quote a nested list of numbers" % (where, target))
        quotes.append(Quote(target, target[len(QUOTE_PREFIX):],
                            _offset(lines, node.lineno, node.col_offset),
                            _offset(lines, node.end_lineno, node.end_col_offset),
                            _offset(lines, literal.lineno, literal.col_offset),
                            _offset(lines, literal.end_lineno, literal.end_col_offset)))
    if not quotes:
        raise QuoteError("%s: tagged %r but assigns no %sNAME = np.array(...)"
                         % (where, TAG, QUOTE_PREFIX))
    return quotes


def quoted_values(source):
    """{correct_NAME: the quoted array} of a tagged cell's source."""
    return {q.target: np.asarray(ast.literal_eval(source[q.start:q.end]), dtype=float)
            for q in find_quotes(source)}


def array_literal(array, decimals=DECIMALS):
    """Python source of a nested list of array's values, one innermost row a line."""
    fmt = "%%.%df" % decimals

    def render(a):
        if a.ndim == 0:
            return fmt % a
        if a.ndim == 1:
            return "[" + ", ".join(fmt % v for v in a) + "]"
        return "[" + ",\n ".join(render(sub) for sub in a) + "]"
    return render(np.asarray(array, dtype=float))


def _run(client, source):
    """Execute source in the kernel (as a new cell of the client's scratch
    notebook, where nbclient keeps it); returns its stdout."""
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    client.execute_cell(cell, len(client.nb.cells) - 1)
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream" and o.name == "stdout")


def _value_in_kernel(client, name):
    probe = ("import json as _json, numpy as _np\n"
             "print(_json.dumps(_np.asarray(%s, dtype=float).tolist()))" % name)
    return np.asarray(json.loads(_run(client, probe).strip().splitlines()[-1]))


def reference_sources(nb, where="notebook", cifar10_dir=None, timeout=900):
    """New source of every tagged cell, by cell id: the notebook runs in a reference
    kernel (quick mode) up to its last tagged cell, each quote computed there."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [i for i, c in enumerate(code) if is_tagged(c)]
    if not tagged:
        return {}
    extra = {"CIFAR10_DIR": str(cifar10_dir)} if cifar10_dir else None
    rewritten = {}
    with tempfile.TemporaryDirectory(prefix="cnn-values-") as cwd:
        client = NotebookClient(nbformat.v4.new_notebook(), timeout=timeout,
                                kernel_name="python3", resources={"metadata": {"path": cwd}})
        with client.setup_kernel(env=kernel_env(reference=True, quick=True, extra=extra)):
            for cell in code[:tagged[-1] + 1]:
                if not is_tagged(cell):
                    _run(client, cell.source)
                    continue
                source, ran, copied, pieces = cell.source, 0, 0, []
                for quote in find_quotes(source, "%s cell %s" % (where, cell.id)):
                    _run(client, source[ran:quote.statement_start])
                    literal = array_literal(_value_in_kernel(client, quote.source))
                    _run(client, "%s = np.array(%s)" % (quote.target, literal))
                    pieces += [source[copied:quote.start], literal]
                    ran, copied = quote.statement_end, quote.end
                _run(client, source[ran:])  # the rest of the cell, as later cells expect
                new_source = "".join(pieces) + source[copied:]
                rewritten[cell.id] = new_source
    return rewritten


def update_notebook(path, cifar10_dir=None):
    """Rewrite the quotes of the notebook at path in place; returns the ids of the
    cells whose numbers changed (the file is not touched when none did)."""
    nb = nbformat.read(str(path), as_version=4)
    new = reference_sources(nb, Path(path).name, cifar10_dir)
    changed = [cell.id for cell in nb.cells if cell.id in new and new[cell.id] != cell.source]
    if changed:
        for cell in nb.cells:
            if cell.id in new:
                cell.source = new[cell.id]
        nbformat.write(nb, str(path))
    return changed
