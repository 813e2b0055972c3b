from tests.hostile import support
import pytest


@pytest.fixture(scope="session")
def cifar10_dir():
    return support.cifar10_dir()


@pytest.fixture(scope="session")
def fixture_model(cifar10_dir):
    return support.fixture_model()
