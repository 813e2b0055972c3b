"""The autograder's modules import each other without circles (lazy imports inside
functions included), so each layer stacks on the ones below it."""
import ast
from pathlib import Path

import autograder

PACKAGE_DIR = Path(autograder.__file__).resolve().parent


def module_name(path):
    parts = ["autograder"] + list(path.relative_to(PACKAGE_DIR).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph():
    """{module: set of autograder modules it imports anywhere in its source}."""
    modules = {module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [node.module] + ["%s.%s" % (node.module, a.name) for a in node.names]
            else:
                continue
            targets |= {f for f in found if f in modules and f != name}
        graph[name] = targets
    return graph


def find_cycle(graph):
    """One cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            # importing a package's submodule runs the package's __init__ first: not a
            # dependency of the submodule on its package's other submodules
            if node.startswith(target + "."):
                continue
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_module_of_the_autograder_imports_itself_in_a_circle():
    assert find_cycle(import_graph()) is None, " -> ".join(find_cycle(import_graph()))


def test_the_cycle_finder_finds_a_planted_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# The packages from the bottom up: a module may import its own package, its tier's other
# packages and any lower tier, never a higher one (lazy imports inside functions included).
# Each tier reads like a step of the workflow: the kit's facts; the homework's definition
# (the spec and its checks, which ship to students); the student's side; the release; a
# submission's files and its sandbox; the course's policy; LMS archives; one result and its
# reports; one submission graded;  a class; what runs over a class; the entry points.
LAYERS = (
    ("kit", "environment", "files"),
    ("spec", "checks"),
    ("notebook", "selfcheck"),
    ("release",),
    ("submission",),
    ("sandbox",),
    ("policy",),
    ("lms",),
    ("results",),
    ("report",),
    ("grade",),
    ("similarity",),
    ("batch",),
    ("export", "gradescope"),
    ("benchmark", "verbs", "__main__"),
)


def package_of(module):
    """The layer unit of an autograder module: its first name below autograder."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def tier_of(package):
    for tier, packages in enumerate(LAYERS):
        if package in packages:
            return tier
    return None


def upward_imports(graph):
    """[(module, imported module)] whose import goes from a lower tier to a higher one."""
    found = []
    for module, targets in sorted(graph.items()):
        if module == "autograder":
            continue
        for target in sorted(targets):
            if target == "autograder":
                continue
            if tier_of(package_of(target)) > tier_of(package_of(module)):
                found.append((module, target))
    return found


def test_every_package_of_the_autograder_has_a_tier():
    packages = {package_of(m) for m in import_graph() if m != "autograder"}
    assert sorted(p for p in packages if tier_of(p) is None) == []


def test_no_package_imports_a_higher_one():
    assert upward_imports(import_graph()) == []


def test_the_layering_check_finds_a_planted_upward_import():
    graph = {"autograder.checks.judging": {"autograder.report.feedback"},
             "autograder.report.feedback": {"autograder.checks.judging"}}
    assert upward_imports(graph) == [("autograder.checks.judging", "autograder.report.feedback")]


def test_the_readme_tree_names_every_package_of_the_autograder():
    readme = (PACKAGE_DIR.parent / "README.md").read_text()
    table = readme[readme.index("## The tree"):readme.index("## Instructors")]
    packages = sorted(p.parent.name for p in PACKAGE_DIR.glob("*/__init__.py"))
    assert [p for p in packages if "`autograder/%s/" % p not in table] == []
