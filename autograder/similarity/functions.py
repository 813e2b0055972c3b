"""The graded functions a student wrote, fingerprinted one by one (runs in the limited child).

The graded functions are the release stubs' unimplemented ones: the release is generated
from the reference's solution markers (autograder.release.stubs), and each marked region
becomes a `raise NotImplementedError('... not implemented yet (YOUR CODE HERE)')`.

A student's function is read as Python parses it (ast, on the text decode_python gave), and
reduced to what the student wrote: docstrings and other bare strings dropped, and every
statement the stub itself holds (its set-up lines, its not-implemented raise, the final
`return`) dropped; an earlier year's template lines are left to the shared-by-many rule
(compare.py). What is left becomes a token stream in pre-order (node kinds; every variable
and argument name is V; attribute names, keyword names and short constants are kept), and
its k-grams, hashed with the function's name, are the function's fingerprint. Comments,
docstrings and layout never reach it; each token keeps its line so the report can mark the
lines a match covers.

Untrusted text: ast.parse runs only in the child (rlimits on memory and CPU), on a text the
budget (max_code_tokens) has already weighed; a SyntaxError, or a tree too deep to build
(RecursionError, MemoryError), makes the module `unparsed` and the report compares that
submission by tokens instead, saying so. The walk over a tree is iterative.
"""
import ast
from dataclasses import dataclass, field

from autograder.release.stubs import STUB_MESSAGE_END

MAX_SOURCE_LINES = 400        # a function's source shown in the report, at most
MAX_SOURCE_CHARS = 40000      # (and at most this many characters of it)
MAX_CONSTANT = 24             # characters of a constant's repr kept as a token


@dataclass
class FunctionPrint:
    """One graded function as a student wrote it."""
    name: str                 # "conv_layers.conv_forward_naive", "cnn.ThreeLayerConvNet.loss"
    hashes: list              # k-gram hashes in order (repeats kept)
    lines: list               # line (1-based, in `source`) of every token
    source: str               # the function's text as submitted (its start, within the caps)


@dataclass
class ModuleFunctions:
    functions: list = field(default_factory=list)     # [FunctionPrint]
    unparsed: str = ""                                 # why the module could not be parsed


def _label(node):
    """The token a node contributes (None: nothing, e.g. Load/Store contexts)."""
    if isinstance(node, (ast.Name, ast.arg)):
        return "V"
    if isinstance(node, ast.Attribute):
        return "." + node.attr
    if isinstance(node, ast.keyword):
        return "%s=" % node.arg
    if isinstance(node, ast.Constant):
        return "C" + repr(node.value)[:MAX_CONSTANT]
    if isinstance(node, ast.expr_context):
        return None
    return type(node).__name__


def _is_string_statement(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
        and isinstance(node.value.value, str)


def tokens(statements):
    """[(label, line)] of the statements in pre-order, without recursion."""
    out = []
    stack = [(s, s.lineno) for s in reversed(statements)]
    while stack:
        node, line = stack.pop()
        if _is_string_statement(node):   # a docstring or bare string: runs nothing
            continue
        line = getattr(node, "lineno", line)   # operators have none: their parent's
        label = _label(node)
        if label is not None:
            out.append((label, line))
        stack.extend((child, line) for child in reversed(list(ast.iter_child_nodes(node))))
    return out


def _statement_key(statement):
    return tuple(label for label, _ in tokens([statement]))


def _body_without_docstring(function):
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return body


def _functions(tree):
    """{qualname: FunctionDef} of a module's functions and methods (nested ones skipped)."""
    found = {}
    stack = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(prefix + child.name, child)
            elif isinstance(child, ast.ClassDef):
                stack.append((child, prefix + child.name + "."))
    return found


def _is_stub_raise(statement):
    if not isinstance(statement, ast.Raise) or statement.exc is None:
        return False
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str)
               and n.value.endswith(STUB_MESSAGE_END) for n in ast.walk(statement.exc))


def graded_functions(stub_sources):
    """{module: {qualname: provided statement keys}} from the release stubs ({module: text}):
    every function whose stub raises the not-implemented message, with the keys of the
    statements its stub provides around that raise."""
    graded = {}
    for module, text in stub_sources.items():
        for name, function in _functions(ast.parse(text)).items():
            body = _body_without_docstring(function)
            if any(_is_stub_raise(s) for s in ast.walk(function) if isinstance(s, ast.Raise)):
                graded.setdefault(module, {})[name] = sorted(
                    {_statement_key(s) for s in body if not _is_stub_raise(s)})
    return graded


def kgram_hashes(name, labels, k):
    """Hashes of the k-grams of `labels`, each with the function's name (so that the same
    passage in two different functions is two different fingerprints)."""
    if len(labels) < k:
        return [hash((name,) + tuple(labels))] if labels else []
    return [hash((name,) + tuple(labels[i:i + k])) for i in range(len(labels) - k + 1)]


def module_functions(module, text, graded, k):
    """ModuleFunctions of one decoded nndl module: its graded functions' fingerprints, or
    why it could not be parsed (then none)."""
    provided = graded.get(module)
    if not provided:
        return ModuleFunctions()
    try:
        tree = ast.parse(text)
    except SyntaxError as error:   # IndentationError and null bytes too
        return ModuleFunctions(unparsed="line %s: %s" % (error.lineno, error.msg))
    except (RecursionError, MemoryError, ValueError):
        return ModuleFunctions(unparsed="nested too deeply to parse")
    found = _functions(tree)
    lines = text.splitlines()
    result = ModuleFunctions()
    for name, keys in sorted(provided.items()):
        function = found.get(name)
        if function is None:
            continue
        keys = set(keys)
        # what the stub provides, its not-implemented raise included, is not the student's
        own = [s for s in _body_without_docstring(function)
               if _statement_key(s) not in keys and not _is_stub_raise(s)]
        labelled = tokens(own)
        if not labelled:
            continue
        first = function.lineno
        qualified = "%s.%s" % (module, name)
        result.functions.append(FunctionPrint(
            name=qualified, hashes=kgram_hashes(qualified, [t for t, _ in labelled], k),
            lines=[line - first + 1 for _, line in labelled],
            source="\n".join(lines[first - 1:min(function.end_lineno,
                                                 first - 1 + MAX_SOURCE_LINES)])[
                :MAX_SOURCE_CHARS]))
    return result
