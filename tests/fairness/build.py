"""Write a variant as a submission: the reference nndl/ with some definitions replaced.

A replacement is source text of top-level definitions (and imports) for one nndl
module. Each definition replaces the reference's definition of the same name in
place (the module keeps its order and reads like a student's file); new helpers
go after the replaced definition that comes first; imports go after the
module's last top-level import.
"""
import ast
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS_NNDL = REPO_ROOT / "solutions" / "nndl"
NOTEBOOKS = ("CNN-Layers.ipynb", "CNN-BatchNorm.ipynb", "CNN.ipynb")
EMPTY_NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'


def _spans(tree):
    """{name: (first line, last line)} of the top-level defs and classes (1-based, decorators in)."""
    spans = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans[node.name] = (first, node.end_lineno)
    return spans


def defined_names(replacement):
    """The top-level def and class names of a replacement's source text."""
    return [node.name for node in ast.parse(replacement).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def replace_definitions(module_source, replacement):
    """module_source with the replacement's definitions and imports put in (see the docstring)."""
    tree = ast.parse(module_source)
    spans = _spans(tree)
    new = ast.parse(replacement)
    new_lines = replacement.splitlines()
    imports, blocks = [], []
    for node in new.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        text = "\n".join(new_lines[first - 1:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            blocks.append((node.name, text))
        else:
            raise ValueError("a replacement holds only imports and definitions: %r" % text[:60])
    lines = module_source.splitlines()
    replaced = [name for name, _ in blocks if name in spans]
    if not replaced:
        raise ValueError("the replacement defines nothing the module has: %s"
                         % [name for name, _ in blocks])
    anchor = min(replaced, key=lambda name: spans[name][0])
    helpers = [text for name, text in blocks if name not in spans]
    # Replace from the bottom up so the line numbers of the spans above stay valid.
    for name, text in sorted(((n, t) for n, t in blocks if n in spans),
                             key=lambda nt: spans[nt[0]][0], reverse=True):
        first, last = spans[name]
        if name == anchor and helpers:
            text = "\n\n\n".join(helpers + [text])
        lines[first - 1:last] = text.splitlines()
    if imports:
        last_import = max((node.end_lineno for node in tree.body
                           if isinstance(node, (ast.Import, ast.ImportFrom))), default=0)
        lines[last_import:last_import] = imports
    return "\n".join(lines) + "\n"


def write_nndl(folder, replaces):
    """folder/nndl: the reference package with the (module, source) replacements applied."""
    target = Path(folder) / "nndl"
    shutil.copytree(SOLUTIONS_NNDL, target, ignore=shutil.ignore_patterns("__pycache__"))
    for module, source in replaces:
        path = target / (module + ".py")
        path.write_text(replace_definitions(path.read_text(), source))
    return target


def write_submission(folder, variant):
    """A submission folder for the variant: its nndl/ and three stand-in notebooks (no model:
    the class run leaves the accuracy item out)."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    write_nndl(folder, variant.replaces)
    for name in NOTEBOOKS:
        (folder / name).write_text(EMPTY_NOTEBOOK)
    return folder
