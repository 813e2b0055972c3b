"""Student stubs generated from the reference nndl sources.

The reference marks every graded body once, with nbgrader's markers:

    ### BEGIN SOLUTION
    ...reference code...
    ### END SOLUTION

The stub keeps everything outside the markers (signatures, docstrings, the
`# YOUR CODE HERE` banners, provided set-up lines) and replaces each marked
region by a single `raise NotImplementedError(...)` naming the function and
file, so a notebook stops at the first unimplemented piece with a message that
says where to work. No stub is written by hand.
"""
import ast
import re
from dataclasses import dataclass
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_MARKER = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>### (BEGIN|END) SOLUTION)[ \t]*$")


# How every stub's message ends (collect_submission looks for it in nndl files).
STUB_MESSAGE_END = "not implemented yet (YOUR CODE HERE)"


class MarkerError(ValueError):
    """The solution markers in a reference file are unbalanced or misplaced."""


@dataclass(frozen=True)
class SolutionRegion:
    """One marked region: 1-based line numbers of its two marker lines."""
    begin: int
    end: int
    indent: str
    owner: str  # qualified name of the innermost enclosing function


def _function_spans(source):
    """(start, end, qualname) of every function, innermost last for a line."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return spans


def find_regions(source, filename="<source>"):
    """Return the SolutionRegions of a reference source, checking the markers."""
    spans = _function_spans(source)
    lines = source.splitlines()
    regions, open_at = [], None
    for lineno, line in enumerate(lines, start=1):
        match = _MARKER.match(line)
        if not match:
            if BEGIN in line or END in line:
                raise MarkerError("%s:%d: a solution marker must stand alone on its line"
                                  % (filename, lineno))
            continue
        if match.group("marker") == BEGIN:
            if open_at is not None:
                raise MarkerError("%s:%d: BEGIN SOLUTION inside the region opened at line %d"
                                  % (filename, lineno, open_at[0]))
            open_at = (lineno, match.group("indent"))
            continue
        if open_at is None:
            raise MarkerError("%s:%d: END SOLUTION without a BEGIN" % (filename, lineno))
        begin, indent = open_at
        if match.group("indent") != indent:
            raise MarkerError("%s:%d: END SOLUTION indented unlike its BEGIN at line %d"
                              % (filename, lineno, begin))
        # A trailing END marker lies past the function's last statement, so the
        # region belongs to the innermost function holding its BEGIN line.
        owners = [name for start, end, name in spans if start <= begin <= end]
        if not owners:
            raise MarkerError("%s:%d: solution region outside any function" % (filename, begin))
        # The raise takes the markers' indentation, so they must be indented
        # like the code they wrap (a raise at column 0 would end the function).
        code = [text for text in lines[begin:lineno - 1]
                if text.strip() and not text.strip().startswith("#")]
        if code and code[0][:len(code[0]) - len(code[0].lstrip())] != indent:
            raise MarkerError("%s:%d: BEGIN SOLUTION indented unlike the code it wraps"
                              % (filename, begin))
        regions.append(SolutionRegion(begin, lineno, indent, max(owners, key=len)))
        open_at = None
    if open_at is not None:
        raise MarkerError("%s:%d: BEGIN SOLUTION is never closed" % (filename, open_at[0]))
    return regions


def not_implemented_line(region, relpath):
    """The one line that stands in for a region in the stub."""
    message = "%s in %s: %s" % (region.owner, relpath, STUB_MESSAGE_END)
    return "%sraise NotImplementedError(%r)" % (region.indent, message)


def stub_source(source, relpath):
    """The student stub of one reference source file (relpath names it in messages)."""
    regions = find_regions(source, relpath)
    if not regions:
        return source  # provided code: copied byte for byte
    lines = source.splitlines()
    out, cursor = [], 0
    for region in regions:
        out.extend(lines[cursor:region.begin - 1])
        out.append(not_implemented_line(region, relpath))
        cursor = region.end
    out.extend(lines[cursor:])
    stub = "\n".join(out) + "\n"
    compile(stub, relpath, "exec")  # a stub that does not parse must never be released
    return stub


def generate_stubs(reference_dir, dest_dir):
    """Write the stub of every .py file in reference_dir into dest_dir.

    Returns the list of written paths (sorted). Files without markers are
    copied unchanged: they are provided code.
    """
    reference_dir, dest_dir = Path(reference_dir), Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted(reference_dir.glob("*.py")):
        relpath = "%s/%s" % (reference_dir.name, src.name)
        target = dest_dir / src.name
        target.write_text(stub_source(src.read_text(), relpath))
        written.append(target)
    return written
