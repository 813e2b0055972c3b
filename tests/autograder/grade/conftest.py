"""Shared, expensive fixtures of the grader tests: a trained model, one graded reference
(CIFAR-10 is the root conftest's `cifar10_dir`).

Accuracy: the fixture model is the reference trained for one epoch on 2500 images
(~25% validation accuracy), so the test spec scales the accuracy item's thresholds
(full credit at 18%, none at 10%) instead of training for many minutes.
"""
import pytest

from tests.autograder.grade import helpers

ACCURACY_ID = "cnn.ThreeLayerConvNet.accuracy"
SCALED_ACCURACY = {"full_credit_at": 0.18, "zero_credit_at": 0.10}


@pytest.fixture(scope="session")
def fixture_model(tmp_path_factory, cifar10_dir):
    path = tmp_path_factory.mktemp("model") / "cnn_model.npz"
    helpers.train_fixture_model(path, cifar10_dir)
    return path


@pytest.fixture(scope="session")
def test_spec(tmp_path_factory):
    """The kit's spec with the accuracy thresholds scaled to the fixture model."""
    return helpers.spec_with(tmp_path_factory.mktemp("spec") / "grading.toml",
                             {ACCURACY_ID: SCALED_ACCURACY})


@pytest.fixture(scope="session")
def fast_spec(tmp_path_factory):
    """The test spec with short time limits on the conv forward items (for hang tests)."""
    overrides = {"conv_layers.conv_forward_naive.forward": {"time_limit": 4.0},
                 ACCURACY_ID: SCALED_ACCURACY}
    return helpers.spec_with(tmp_path_factory.mktemp("fast-spec") / "grading.toml", overrides)


@pytest.fixture(scope="session")
def graded_reference(tmp_path_factory, fixture_model, test_spec, cifar10_dir):
    """The reference graded once as a submission: (GradeResult, output folder)."""
    from autograder.grade.pipeline import GradeOptions, grade
    root = tmp_path_factory.mktemp("reference-submission")
    submission = helpers.reference_submission(root / "reference", model=fixture_model)
    out = root / "out"
    result = grade(submission, out, GradeOptions(seed=12345, spec_path=str(test_spec),
                                                 cifar_dir=str(cifar10_dir)))
    return result, out


@pytest.fixture
def grade_into(tmp_path, test_spec, cifar10_dir):
    """grade(submission, **options) into a fresh folder; returns (GradeResult, out folder)."""
    from autograder.grade.pipeline import GradeOptions, grade

    def run(submission, spec=None, **options):
        out = tmp_path / ("out-%d" % len(list(tmp_path.glob("out-*"))))
        options.setdefault("seed", 7)
        result = grade(submission, out, GradeOptions(spec_path=str(spec or test_spec),
                                                     cifar_dir=str(cifar10_dir), **options))
        return result, out
    return run
