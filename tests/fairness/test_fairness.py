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


def test_the_groups_are_the_graders():
    conv = ("core", "no_padding", "wide_padding", "odd_shapes", "float32")
    pool = ("core", "overlapping", "non_tiling", "float32")
    assert v.GROUPS == {
        v.CONV_FS: conv, v.CONV_B: conv, v.POOL_FS: pool, v.POOL_B: pool,
        v.BN_TRAIN: ("core", "odd_shapes", "float32"), v.BN_B: ("core", "odd_shapes", "float32"),
        v.BN_TEST: ("core", "float32"), v.RELU_B: ("core", "float32"),
        v.SOFTMAX: ("core", "extreme_scores", "float32"),
        v.CNN_F: ("core", "regularisation", "batchnorm", "odd_sizes", "float32"),
        v.CNN_G: ("core", "regularisation", "batchnorm")}
    assert v.groups_of(v.CONV_F) == v.groups_of(v.POOL_F) == v.groups_of(v.CNN_T) == ("all",)


def test_every_group_label_names_groups_of_the_items_it_touches():
    for bug in v.BUGS:
        touched = {group for item in bug.touches for group in v.groups_of(item)}
        assert isinstance(bug.confined_to, tuple) and isinstance(bug.feature, str), bug.name
        assert set(bug.label_groups) <= touched, (bug.name, bug.label_groups, touched)
        assert "all" not in bug.label_groups and bug.feature not in bug.confined_to, bug.name
    assert all(not x.label_groups for x in v.CORRECT)
    labelled = {b.name: (b.confined_to, b.feature) for b in v.BUGS if b.label_groups}
    assert labelled == {
        "conv_backward_crop_negative_pad": (("no_padding",), ""),
        "pool_backward_overwrites_overlaps": (("overlapping",), ""),
        "pool_stride_is_pool_size": (("overlapping",), ""),
        "pool_output_size_rounds_up": (("non_tiling",), ""),
        "softmax_log_epsilon_1e12": (("extreme_scores",), ""),
        "softmax_not_shifted": (("extreme_scores",), ""),
        "cnn_reg_missing_from_loss": ((), "regularisation"),
        "cnn_reg_missing_from_gradient": ((), "regularisation"),
        "cnn_reg_w3_cubed": ((), "regularisation"),
        "cnn_reg_without_half": ((), "regularisation"),
        "cnn_b1_regularised": ((), "regularisation"),
        "cnn_w2_true_division": (("odd_sizes",), ""),
        "cnn_without_batchnorm": ((), "batchnorm"),
        "cnn_bn_mode_never_switched": (("batchnorm",), ""),
        "cnn_fresh_bn_dicts": (("batchnorm",), ""),
    }


def test_the_new_student_patterns_are_in_the_suite():
    correct = {x.name for x in v.CORRECT}
    assert {"relu_forward_in_place", "relu_backward_in_place"} <= correct
    assert v.by_name("sbn_running_stats_replaced").loses == (v.BN_TEST,)
    assert v.by_name("cnn_without_batchnorm").loses == (v.CNN_F,)
    removed = v.by_name("conv_forward_removed_np_int")
    assert {v.CONV_F, v.CONV_FS} <= set(removed.loses) and "np.int(" in removed.replaces[0][1]
    assert any(re.search(rx, "AttributeError: module 'numpy' has no attribute 'int'. `np.int` "
                         "was a deprecated alias") for rx in removed.feedback)
    assert "dx_pad[:, :, pad:-pad, pad:-pad]" in v.by_name("conv_backward_crop_negative_pad").replaces[0][1]


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


def test_the_verification_refuses_wrong_group_labels(reference, tmp_path):
    # the pad:-pad crop breaks pad 0 only: not odd shapes, and it agrees on every other group
    crop = v.by_name("conv_backward_crop_negative_pad")
    problems = verify.problems_of(dataclasses.replace(crop, confined_to=("odd_shapes",)),
                                  tmp_path / "a", reference)
    assert any("does not show in its groups" in p for p in problems)
    assert any("group no_padding" in p for p in problems)
    # a 1e-7 epsilon in the log moves the core loss beyond the softmax tolerance too
    epsilon = dataclasses.replace(v.by_name("softmax_log_epsilon"), confined_to=("extreme_scores",))
    problems = verify.problems_of(epsilon, tmp_path / "b", reference)
    assert any(p.startswith(v.SOFTMAX + ": group core") for p in problems)
    # without batchnorm is not a regularisation bug; a label must name groups it touches
    no_bn = dataclasses.replace(v.by_name("cnn_without_batchnorm"), feature="regularisation")
    problems = verify.problems_of(no_bn, tmp_path / "c", reference)
    assert any("group batchnorm" in p for p in problems)
    elsewhere = dataclasses.replace(v.by_name("sbn_no_eps"), confined_to=("overlapping",))
    assert any("no group of the items it touches" in p
               for p in verify.problems_of(elsewhere, tmp_path / "d", reference))


def test_the_figures_count_what_the_labels_say():
    correct, bug = v.by_name("conv_im2col"), v.by_name("cnn_reg_missing_from_gradient")
    full = {item: (2.0, 2.0) for item in v.ITEMS}
    # the bug fails the gradient's regularisation group (its feature) only
    groups = {v.CNN_G: [{"name": "core", "points": 16 / 3}, {"name": "regularisation", "points": 4 / 3},
                        {"name": "batchnorm", "points": 4 / 3}]}
    outcomes = [run.Outcome(correct, scores=dict(full, **{v.CONV_B: (0.0, 12.0)})),
                run.Outcome(bug, scores=dict(full, **{v.CNN_G: (8 - 4 / 3, 8.0), v.CNN_T: (3.0, 4.0)}),
                            feedback="check the regularisation term", groups=groups)]
    assert run.figures(outcomes) == ("fairness: 0/1 correct at full credit, 1/1 bugs caught, "
                                     "2 false deductions (13 points)")
    rows = run.misgraded(outcomes)
    assert [r[0] for r in rows] == ["conv_im2col", "cnn_reg_missing_from_gradient"]
    outcomes[1].scores[v.CNN_T] = (4.0, 4.0)
    assert outcomes[1].caught and outcomes[1].fair
    # the whole gradient item lost: charged beyond its feature's group, counted as a deduction
    outcomes[1].scores[v.CNN_G] = (0.0, 8.0)
    assert outcomes[1].caught and not outcomes[1].fair
    assert outcomes[1].overcharge == pytest.approx(8 - 4 / 3)
    assert run.figures(outcomes) == ("fairness: 0/1 correct at full credit, 1/1 bugs caught, "
                                     "2 false deductions (%g points)" % (12 + 8 - 4 / 3))


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


def test_no_bug_costs_more_than_its_labelled_groups(class_run):
    _, outcomes = class_run
    if not any(o.groups for o in outcomes):
        pytest.skip("the grader writes no case groups (extra_data.groups) yet")
    over = {o.variant.name: "%g points beyond %s" % (o.overcharge, "/".join(o.variant.label_groups))
            for o in outcomes if o.overcharge}
    assert not over, "%s\n%s" % (over, run.charge_table(run.charges(outcomes)))


def test_every_bug_is_named_in_its_feedback(class_run):
    _, outcomes = class_run
    unnamed = {o.variant.name: o.missing_words for o in outcomes if o.variant.is_bug and o.missing_words}
    assert not unnamed, run.table(run.misgraded(outcomes))
