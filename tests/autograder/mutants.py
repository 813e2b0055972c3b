"""Single-change AST mutants of the reference's graded functions.

A site is one node inside a `### BEGIN SOLUTION` region of a graded function
plus one way to change it: swap + and -, * and /, a comparison (> vs >=, ...),
change a constant, move a slice bound or a range end by one, change an axis
argument, drop the right-hand term of a sum, drop a unary minus, swap an
augmented assignment's operator. Sites are enumerated in ast.walk order, so a
mutant is named by (file, index) and is reproducible.
"""
import ast
from dataclasses import dataclass

from autograder.release.stubs import find_regions

GRADED_FUNCTIONS = {
    "conv_layers.py": {"conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive",
                       "max_pool_backward_naive", "spatial_batchnorm_forward",
                       "spatial_batchnorm_backward"},
    "layers.py": {"affine_forward", "affine_backward", "relu_forward", "relu_backward",
                  "batchnorm_forward", "batchnorm_backward", "softmax_loss"},
    "cnn.py": {"ThreeLayerConvNet.__init__", "ThreeLayerConvNet.loss"},
}

_BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
                ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult}
_CMP_SWAPS = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
              ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is}


@dataclass(frozen=True)
class Mutant:
    filename: str
    index: int          # position of the node in ast.walk order
    kind: str
    line: int
    function: str
    source: str         # the whole mutated module

    @property
    def name(self):
        return "%s:%d %s (%s)" % (self.filename, self.line, self.kind, self.function)


def _graded_lines(source, filename):
    lines = {}
    for region in find_regions(source, filename):
        if region.owner in GRADED_FUNCTIONS.get(filename, ()):
            for line in range(region.begin, region.end + 1):
                lines[line] = region.owner
    return lines


def _kinds(node):
    """The mutation kinds that apply to node."""
    kinds = []
    if isinstance(node, ast.BinOp):
        if type(node.op) in _BINOP_SWAPS:
            kinds.append("binop:" + _BINOP_SWAPS[type(node.op)].__name__)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            kinds.append("drop_right_term")
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP_SWAPS:
        kinds.append("compare:" + _CMP_SWAPS[type(node.ops[0])].__name__)
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        kinds.append("constant")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        kinds.append("drop_minus")
    elif isinstance(node, ast.Slice):
        if node.lower is not None:
            kinds.append("slice_lower+1")
        if node.upper is not None:
            kinds.append("slice_upper+1")
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
            and node.args:
        kinds.append("range_end-1")
    elif isinstance(node, ast.keyword) and node.arg == "axis":
        kinds.append("axis")
    elif isinstance(node, ast.keyword) and node.arg == "keepdims":
        kinds.append("keepdims")
    elif isinstance(node, ast.AugAssign) and type(node.op) in _BINOP_SWAPS:
        kinds.append("augassign:" + _BINOP_SWAPS[type(node.op)].__name__)
    return kinds


def _plus(expr, delta):
    op = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(left=expr, op=op, right=ast.Constant(abs(delta)))


def _replace_in_parent(tree, node, new):
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, new)
                return True
            if isinstance(value, list) and any(v is node for v in value):
                setattr(parent, field, [new if v is node else v for v in value])
                return True
    return False


def _apply(tree, node, kind):
    """Mutate node (in tree) in place; False when the change is impossible here."""
    if kind.startswith("binop:"):
        node.op = getattr(ast, kind.split(":")[1])()
    elif kind == "drop_right_term":
        return _replace_in_parent(tree, node, node.left)
    elif kind.startswith("compare:"):
        node.ops = [getattr(ast, kind.split(":")[1])()]
    elif kind == "constant":
        if isinstance(node.value, int):
            node.value = node.value + 1
        else:
            node.value = node.value * 2 if node.value else 1.0
    elif kind == "drop_minus":
        return _replace_in_parent(tree, node, node.operand)
    elif kind == "slice_lower+1":
        node.lower = _plus(node.lower, 1)
    elif kind == "slice_upper+1":
        node.upper = _plus(node.upper, 1)
    elif kind == "range_end-1":
        index = 0 if len(node.args) == 1 else 1
        node.args[index] = _plus(node.args[index], -1)
    elif kind == "axis":
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, int):
            node.value = ast.Constant(1 if value.value == 0 else 0)
        elif isinstance(value, ast.Tuple) and len(value.elts) > 1:
            node.value = ast.Tuple(elts=value.elts[:-1], ctx=ast.Load())
        else:
            return False
    elif kind == "keepdims":
        node.value = ast.Constant(not (isinstance(node.value, ast.Constant) and node.value.value))
    elif kind.startswith("augassign:"):
        node.op = getattr(ast, kind.split(":")[1])()
    return True


def generate(filename, source):
    """Every mutant of one reference file (list of Mutant)."""
    graded = _graded_lines(source, filename)
    sites = []
    for index, node in enumerate(ast.walk(ast.parse(source))):
        line = getattr(node, "lineno", None)
        if line is None and isinstance(node, ast.Slice):
            line = getattr(node.lower or node.upper, "lineno", None)
        if line in graded:
            for kind in _kinds(node):
                sites.append((index, kind, line, graded[line]))
    mutants = []
    original = ast.unparse(ast.parse(source))
    for index, kind, line, function in sites:
        tree = ast.parse(source)
        node = next(n for i, n in enumerate(ast.walk(tree)) if i == index)
        if not _apply(tree, node, kind):
            continue
        ast.fix_missing_locations(tree)
        text = ast.unparse(tree)
        if text != original:
            mutants.append(Mutant(filename, index, kind, line, function, text))
    return mutants
