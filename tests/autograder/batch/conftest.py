from tests.hostile import support
import pytest


@pytest.fixture(scope="session")
def fixture_model(cifar10_dir):
    return support.fixture_model()
