"""Similarity compares what Python executes: sources decoded as the interpreter decodes them
(a coding declaration honoured), all of the code compared (padding that does not run
dropped, never a cut), undecodable files and over-budget submissions reported."""
import base64
import re
from dataclasses import replace

import pytest

from autograder.similarity.run import run_similarity
from autograder.similarity.source import (PLACEHOLDER, OverBudget, UndecodableSource,
                                          code_only, decode_python)
from autograder.spec import SpecError, load_spec, parse_spec
from tests.autograder.similarity import synthetic

POLICY = load_spec().similarity
ORIGINAL = synthetic.CONV_SOURCES["loops"].read_text()
UTF7_LINE = "# -*- coding: utf-7 -*-\n"
PADDING_KB = 600            # more than the 512 KB the code used to be cut at


def utf7_all_shifted(text):
    """`text` in UTF-7 with every character after the coding line base64-shifted (valid
    UTF-7 that Python decodes, though no byte of the code shows through)."""
    body = base64.b64encode(text.encode("utf-16-be")).decode("ascii").rstrip("=")
    return (UTF7_LINE + "+" + body + "-").encode("ascii")


def with_accented_names(text):
    """The locals renamed with a non-ASCII letter (a valid, equivalent module)."""
    names = "out|dx|dw|db|stride|pad|cache|mode|eps|momentum"
    return re.sub(r"(?<![.'\"\w])(%s)(?![\w'\"])" % names, lambda m: m.group(1) + "é", text)


def padded(text, kind):
    """`text` after PADDING_KB of what does not run."""
    line = {"comment": "# " + "padding " * 12 + "\n",
            "blank": " " * 96 + "\n",
            "docstring": None}[kind]
    if line is None:
        return '"""' + ("padding " * 12 + "\n") * (PADDING_KB * 1024 // 97) + '"""\n' + text
    return line * (PADDING_KB * 1024 // len(line)) + text


# submission id -> bytes of its nndl/conv_layers.py; "original" is the loops implementation
COPIES = {
    "utf7": (UTF7_LINE + ORIGINAL).encode("utf-7"),
    "utf7_shifted": utf7_all_shifted(ORIGINAL),
    "latin1_names": ("# -*- coding: latin-1 -*-\n" + with_accented_names(ORIGINAL)
                     ).encode("latin-1"),
    "cp1252_names": ("# coding=cp1252\n" + with_accented_names(ORIGINAL)).encode("cp1252"),
    "comment_padding": padded(ORIGINAL, "comment").encode(),
    "blank_padding": padded(ORIGINAL, "blank").encode(),
    "docstring_padding": padded(ORIGINAL, "docstring").encode(),
}
UNDECODABLE = {
    "unknown_codec": b"# -*- coding: no-such-codec -*-\n" + ORIGINAL.encode(),
    "invalid_utf8": ORIGINAL.encode() + b"\nname = 'caf\xe9'\n",
    "not_a_text_codec": b"# coding: rot13\n" + ORIGINAL.encode(),
}


def student(folder, conv_bytes, cell):
    root = synthetic.write_student(folder, "", cell)
    (root / "nndl" / "conv_layers.py").write_bytes(conv_bytes)
    return str(root)


@pytest.fixture(scope="module")
def decoded_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decoded")
    folders = {"original": student(folder / "original", ORIGINAL.encode(),
                                   synthetic.FINAL_CELLS["loops"]),
               "independent": student(folder / "independent",
                                      synthetic.CONV_SOURCES["vectorised"].read_bytes(),
                                      synthetic.FINAL_CELLS["vectorised"])}
    for n, (sid, data) in enumerate(sorted({**COPIES, **UNDECODABLE}.items())):
        # each its own final cell: only the conv_layers.py code can pair them
        folders[sid] = student(folder / sid, data,
                               synthetic.disguise_cell(synthetic.FINAL_CELLS["strided"], n))
    grades = folder / "grades"
    grades.mkdir()
    # seven copies of one original in a class of twelve would make its code shared by
    # many (boilerplate): here every copy is to be paired with it, so nothing is common
    return run_similarity(str(grades), folders, replace(POLICY, common_min=len(folders) + 1),
                          jobs=2), grades


def test_the_copies_run_as_their_original():
    """The disguised files are the same program to Python (what the grader would run)."""
    for sid, data in COPIES.items():
        compile(data, sid + ".py", "exec")
        assert decode_python(data).endswith(ORIGINAL if "names" not in sid
                                            else with_accented_names(ORIGINAL)), sid
    assert "outé" in with_accented_names(ORIGINAL) and b"conv" not in COPIES["utf7_shifted"]


@pytest.mark.parametrize("copy", sorted(COPIES))
def test_a_reencoded_or_padded_copy_is_paired_with_its_original(decoded_class, copy):
    run, _ = decoded_class
    assert ("original", copy) in run.flagged or (copy, "original") in run.flagged
    assert copy not in run.problems
    pair = [p for p in run.pairs if {run.ids[p.a], run.ids[p.b]} == {"original", copy}][0]
    assert pair.similarity_a > 0.9 and pair.similarity_b > 0.9


def test_independent_work_is_still_not_flagged(decoded_class):
    run, _ = decoded_class
    assert not [pair for pair in run.flagged if "independent" in pair]


@pytest.mark.parametrize("sid", sorted(UNDECODABLE))
def test_an_undecodable_file_is_reported_not_compared(decoded_class, sid):
    run, grades = decoded_class
    problems = " ".join(run.problems.get(sid, []))
    assert "nndl/conv_layers.py could not be decoded as Python decodes it" in problems
    assert not [pair for pair in run.flagged if sid in pair]   # not compared as garbage
    assert "nndl/conv_layers.py could not be decoded" in (grades / "similarity.html").read_text()
    assert sid in run.section and "could not be decoded" in run.section


def test_over_the_budget_is_flagged_for_review_not_cut(tmp_path):
    """Code over max_code_tokens is listed for review and not compared in part; comments
    weigh nothing, so a padded copy under the budget is still compared whole."""
    heavy = ORIGINAL + "\n".join("value_%d = compute(%d, value_%d)" % (n, n, n - 1)
                                 for n in range(1, 4000)) + "\n"
    folders = {"heavy_a": student(tmp_path / "a", heavy.encode(), synthetic.FINAL_CELLS["loops"]),
               "heavy_b": student(tmp_path / "b", heavy.encode(),
                                  synthetic.FINAL_CELLS["reference"]),
               "light": student(tmp_path / "c", ORIGINAL.encode(), synthetic.FINAL_CELLS["loops"]),
               "light_padded": student(tmp_path / "d", padded(ORIGINAL, "comment").encode(),
                                       synthetic.FINAL_CELLS["strided"])}
    policy = replace(POLICY, max_code_tokens=10000)
    grades = tmp_path / "grades"
    grades.mkdir()
    run = run_similarity(str(grades), folders, policy)
    message = "too large to compare in the budget (more than 10000 code tokens"
    for sid in ("heavy_a", "heavy_b"):
        assert message in " ".join(run.problems[sid])
        assert sid in run.section and message in run.section
    assert message in (grades / "similarity.html").read_text()
    assert run.flagged == [("light", "light_padded")]
    assert "light" not in run.problems and "light_padded" not in run.problems


def test_decode_python_follows_the_interpreter():
    text = "x = 'café'\n"
    assert decode_python(b"\xef\xbb\xbf" + text.encode()) == text             # BOM
    assert decode_python(("# coding: latin-1\n" + text).encode("latin-1")).endswith(text)
    # line 2 counts only after a comment or blank line 1, as for the interpreter
    second = ("#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\n" + text)
    assert decode_python(second.encode("cp1252")).endswith(text)
    assert decode_python(b"a = 1\r\nb = 2\r") == "a = 1\nb = 2\n"           # universal newlines
    for data in UNDECODABLE.values():
        with pytest.raises(UndecodableSource):
            decode_python(data)
    with pytest.raises(UndecodableSource):
        decode_python(b"\xef\xbb\xbf# coding: latin-1\nx = 1\n")            # BOM against cookie


def test_code_only_keeps_what_runs():
    source = ('"""Module docstring."""\n# a comment\n\n\nimport numpy as np\n\n'
              'def f(x):  # trailing\n    """Doc."""\n    label = f"{x!r} and {%s}"\n'
              '    long = "%s"\n    "bare statement"\n    return (x +  # inside\n'
              '            np.sum(x))\n' % ("x" * 300, "p" * 300))
    code, weight = code_only(source)
    assert code == ('import numpy as np\ndef f(x):\n    label = f"{x!r} and {%s}"\n'
                    '    long = %s\n    return (x +\n            np.sum(x))\n'
                    % ("x" * 300, PLACEHOLDER))
    # 26 tokens weigh 1 each (the placeholder too); the f-string (code inside) is kept
    # whole and weighs one per started 100 characters
    assert weight == 26 + (1 + len('f"{x!r} and {%s}"' % ("x" * 300)) // 100)
    with pytest.raises(OverBudget):
        code_only(source, budget=weight - 1)
    assert code_only(source, budget=weight)[1] == weight


def test_code_only_keeps_the_rest_of_a_file_tokenize_cannot_read():
    code, weight = code_only("x = 1  # c\ny = '''never closed\n# still there\nz = 2\n")
    assert code.startswith("x = 1\ny = ") and "# still there\nz = 2" in code
    assert weight > 6


@pytest.mark.parametrize("table, message", [
    ({"max_code_tokens": 0}, "max_code_tokens and html_max_pairs must be positive"),
    ({"max_code_tokens": "many"}, "must be a int"),
    ({"max_code_kb": 512}, "replaced by max_code_tokens"),
])
def test_spec_validates_the_budget(table, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({"settings": {"visible_only": True}, "item": [], "similarity": table})
