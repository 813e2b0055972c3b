"""CIFAR-10 for the notebook and nbgrader tests, unpacked at most once per session.

Both test folders import this module, so the archive is unpacked once however
many of them run.
"""
from pathlib import Path

import pytest

from cs231n.data_utils import CIFAR10NotFoundError, find_cifar10_dir
from cs231n.datasets.get_datasets import unpack_archive

REPO_ROOT = Path(__file__).resolve().parents[2]
# The shared folder sits beside the clone, in development and in CI.
SHARED_ARCHIVE = REPO_ROOT.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"
_unpacked = {}


def cifar10_dir(tmp_path_factory):
    """A cifar-10-batches-py folder (the loader's, else the shared archive unpacked)."""
    try:
        return Path(find_cifar10_dir())
    except CIFAR10NotFoundError:
        pass
    if "dir" not in _unpacked:
        if not SHARED_ARCHIVE.is_file():
            pytest.skip("no CIFAR-10 where the loader looks, and no archive at %s" % SHARED_ARCHIVE)
        _unpacked["dir"] = Path(unpack_archive(SHARED_ARCHIVE, tmp_path_factory.mktemp("cifar10")))
    return _unpacked["dir"]
