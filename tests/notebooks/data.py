"""CIFAR-10 for the notebook and nbgrader tests (tests/cifar_data.py: real, else synthetic)."""
from tests import cifar_data


def cifar10_dir(tmp_path_factory=None):
    """A cifar-10-batches-py folder (the real data set where there is one, else synthetic)."""
    return cifar_data.cifar10_dir()
