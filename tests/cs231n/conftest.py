"""Fixtures for the cs231n tests: the real CIFAR-10, unpacked at most once per session."""
from pathlib import Path

import pytest

from cs231n.data_utils import CIFAR10NotFoundError, find_cifar10_dir
from cs231n.datasets.get_datasets import unpack_archive

REPO_ROOT = Path(__file__).resolve().parents[2]
# The shared folder sits beside the clone, in development and in CI.
SHARED_ARCHIVE = REPO_ROOT.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"


@pytest.fixture(scope="session")
def cifar10_dir(tmp_path_factory):
    """
    A cifar-10-batches-py folder holding the real data set.

    Where the loader finds it ($CIFAR10_DIR, then cs231n/datasets), else the
    shared archive unpacked into a session temporary folder; the test is
    skipped when there is neither.
    """
    try:
        return find_cifar10_dir()
    except CIFAR10NotFoundError:
        pass
    if not SHARED_ARCHIVE.is_file():
        pytest.skip("no CIFAR-10 where the loader looks, and no archive at %s" % SHARED_ARCHIVE)
    return unpack_archive(SHARED_ARCHIVE, tmp_path_factory.mktemp("cifar10"))
