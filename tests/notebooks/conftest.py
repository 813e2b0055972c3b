import pytest

from tests.notebooks.data import cifar10_dir as _cifar10_dir


@pytest.fixture(scope="session")
def cifar10_dir(tmp_path_factory):
    return _cifar10_dir(tmp_path_factory)
