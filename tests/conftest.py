"""Shared test set-up: the reference nndl package lives in solutions/ (it is
not installed, so that no student environment ever holds it as `nndl`), and
CIFAR-10 comes from tests/cifar_data.py (the real set, else a synthetic one)."""
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO_ROOT / "solutions"

if str(SOLUTIONS) not in sys.path:
    sys.path.insert(0, str(SOLUTIONS))

from tests import cifar_data  # noqa: E402  (after the path set-up)


def pytest_report_header(config):
    return cifar_data.describe()


@pytest.fixture(scope="session")
def cifar10_dir():
    """A cifar-10-batches-py folder: the real data set where there is one, else synthetic."""
    return cifar_data.cifar10_dir()


@pytest.fixture(scope="session")
def real_cifar10_dir():
    """The real data set, for the tests that assert its accuracy (skipped without it)."""
    found = cifar_data.real_cifar10_dir()
    if found is None:
        pytest.skip("asserts accuracy on the real CIFAR-10: needs it where the loader looks "
                    "($CIFAR10_DIR or cs231n/datasets) or %s" % cifar_data.SHARED_ARCHIVE)
    return found
