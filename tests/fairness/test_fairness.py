"""The fairness suite (issue 10): correct code in students' styles earns full credit, each
planted bug costs exactly the items that test what it breaks, with feedback that names it.

First every variant's label is checked against the reference without the grader
(verify.py); then all variants are graded in ONE class run (run.py) and held to
their labels. `python -m tests.fairness` prints the same figures.
"""
import dataclasses
import re

import pytest

from tests.fairness import build, run, verify
from tests.fairness import variants as v


@pytest.fixture(scope="module")
def reference():
    return verify.load_nndl(build.SOLUTIONS_NNDL.parent)


# ---- the suite itself ------------------------------------------------------------------------

def test_the_suite_has_25_correct_styles_and_25_single_bugs():
    styles = [x for x in v.CORRECT if x.replaces]   # the unchanged reference is a control only
    assert len(styles) >= 25 and len(v.BUGS) >= 25
    names = [x.name for x in v.VARIANTS]
    assert len(names) == len(set(names))
    for bug in v.BUGS:
        assert bug.loses and bug.feedback, bug.name
        assert set(bug.loses) <= set(v.ITEMS) and set(bug.may_lose) <= set(v.ITEMS), bug.name
        assert not set(bug.loses) & set(bug.may_lose), bug.name
        for pattern in bug.feedback:
            re.compile(pattern)
    assert all(not x.loses and not x.may_lose and not x.feedback for x in v.CORRECT)


def test_every_bug_is_planted_in_a_correct_style():
    sources = {src for x in v.CORRECT for _, src in x.replaces}
    for bug in v.BUGS:
        (module, source), = bug.replaces
        assert source not in sources, bug.name
        assert any(build.defined_names(source) == build.defined_names(s) for s in sources), bug.name


def test_replacing_definitions_keeps_the_module_in_order():
    module = ("import numpy as np\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n\n\n"
              "def c():\n    return 3\n")
    replacement = "import math\n\n\ndef _helper():\n    return 0\n\n\ndef b():\n    return _helper()\n"
    text = build.replace_definitions(module, replacement)
    namespace = {}
    exec(compile(text, "module", "exec"), namespace)
    assert (namespace["a"](), namespace["b"](), namespace["c"]()) == (1, 0, 3)
    assert text.index("def a") < text.index("def _helper") < text.index("def b") < text.index("def c")
    assert text.index("import math") < text.index("def a") and text.count("def b") == 1
    with pytest.raises(ValueError):
        build.replace_definitions(module, "def d():\n    return 4\n")


# ---- every label checked without the grader --------------------------------------------------

@pytest.mark.parametrize("variant", v.VARIANTS, ids=lambda x: x.name)
def test_the_label_holds_against_the_reference(variant, reference, tmp_path):
    assert verify.problems_of(variant, tmp_path / "submission", reference) == []


def test_the_verification_refuses_wrong_labels(reference, tmp_path):
    bug_called_correct = dataclasses.replace(v.by_name("conv_backward_db_mean"), loses=(),
                                             feedback=())
    assert verify.problems_of(bug_called_correct, tmp_path / "a", reference)
    correct_called_bug = dataclasses.replace(v.by_name("pool_reshape"), loses=(v.POOL_B,),
                                             feedback=("dx",))
    assert verify.problems_of(correct_called_bug, tmp_path / "b", reference)
    # the pool-stride bug breaks the secret pooling cases: claiming they are safe is refused
    keeps_what_it_breaks = dataclasses.replace(v.by_name("pool_stride_is_pool_size"),
                                               loses=(v.POOL_F,), may_lose=())
    problems = verify.problems_of(keeps_what_it_breaks, tmp_path / "c", reference)
    assert any(v.POOL_F in p for p in problems) and any(v.POOL_FS in p for p in problems)


def test_the_figures_count_what_the_labels_say():
    correct, bug = v.by_name("conv_im2col"), v.by_name("cnn_reg_missing_from_gradient")
    full = {item: (2.0, 2.0) for item in v.ITEMS}
    outcomes = [run.Outcome(correct, scores=dict(full, **{v.CONV_B: (0.0, 12.0)})),
                run.Outcome(bug, scores=dict(full, **{v.CNN_G: (0.0, 8.0), v.CNN_T: (3.0, 4.0)}),
                            feedback="check the regularisation term")]
    assert run.figures(outcomes) == ("fairness: 0/1 correct at full credit, 1/1 bugs caught, "
                                     "2 false deductions (13 points)")
    rows = run.misgraded(outcomes)
    assert [r[0] for r in rows] == ["conv_im2col", "cnn_reg_missing_from_gradient"]
    outcomes[1].scores[v.CNN_T] = (4.0, 4.0)
    assert outcomes[1].caught and outcomes[1].fair


# ---- one class run -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("fairness")
    run.build_class(root / "class")
    proc = run.grade_class(root / "class", root / "grades")
    return proc, run.read_outcomes(root / "grades")


def test_the_class_run_grades_every_variant_on_every_item(class_run):
    proc, outcomes = class_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    broken = ["%s: %s %s" % (o.variant.name, o.grader_error[:300], o.missing_items)
              for o in outcomes if o.grader_error or o.missing_items]
    assert not broken, "\n".join(broken)


def test_no_correct_code_and_no_unbroken_item_loses_points(class_run):
    _, outcomes = class_run
    false = {o.variant.name: o.false_deductions for o in outcomes if o.false_deductions}
    assert not false, "%s\n%s" % (run.figures(outcomes), run.table(run.misgraded(outcomes)))


def test_every_bug_loses_the_items_that_test_it(class_run):
    _, outcomes = class_run
    kept = {o.variant.name: o.missed_items for o in outcomes if o.variant.is_bug and o.missed_items}
    assert not kept, kept


def test_every_bug_is_named_in_its_feedback(class_run):
    _, outcomes = class_run
    unnamed = {o.variant.name: o.missing_words for o in outcomes if o.variant.is_bug and o.missing_words}
    assert not unnamed, run.table(run.misgraded(outcomes))
