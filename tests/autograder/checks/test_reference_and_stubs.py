"""The reference scores full marks on every item; the bare stubs score 0 with a
clear message and no grader error."""
import pytest

from autograder.checks import make_cases, run_item_in_process
from autograder.checks.loading import load_nndl

from tests.autograder.checks import support


@pytest.mark.parametrize("item", support.fast_items(), ids=lambda item: item.id)
def test_reference_scores_full_marks_on_fresh_inputs(item):
    # A seed unlike the cached one: the reference is compared with itself on new cases.
    import numpy as np
    result = run_item_in_process(item, support.reference(), reference_modules=support.reference(),
                                 rng=np.random.default_rng(7))
    assert result.status == "passed", result.output
    assert result.score == item.points


def test_reference_loaded_separately_scores_full_marks_against_cached_observations():
    results = support.grade(load_nndl(support.SOLUTIONS_NNDL))
    assert support.lost_points(results) == {}


def test_stubs_score_zero_with_a_not_implemented_message(tmp_path):
    results = support.grade(support.stubs(tmp_path))
    for item_id, result in results.items():
        assert result.score == 0, item_id
        assert result.status == "error", (item_id, result.output)
        assert "not implemented yet" in result.output, (item_id, result.output)
        assert "grader problem" not in result.output
        # the message names the file to work on
        assert "nndl/" in result.output


def test_every_case_builder_is_used_by_some_item():
    from autograder.checks.cases import CASES
    used = {name for item in support.spec().items for name in item.cases}
    assert used == set(CASES)


def test_make_cases_is_deterministic_per_generator():
    import numpy as np
    item = support.spec().item("conv_layers.conv_backward_naive.gradient")
    a = make_cases(item, np.random.default_rng(3))
    b = make_cases(item, np.random.default_rng(3))
    c = make_cases(item, np.random.default_rng(4))
    assert all(np.array_equal(x["x"], y["x"]) for x, y in zip(a, b))
    assert not np.array_equal(a[0]["x"], c[0]["x"])
