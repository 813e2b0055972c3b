"""The self-check prices the saved model: the student's ThreeLayerConvNet loads cnn_model.npz
in a child process as the grader's sandbox does, classifies the validation images, and the
self-check prints the accuracy and the points it would earn under the spec's rule.

The expected accuracy is computed here without the self-check: the reference's class
rebuilt by cs231n.model_io on the same validation split."""
import re
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from autograder import selfcheck
from autograder.spec import load_spec
from tests.autograder.checks import support
from tests.autograder.grade import helpers

ACCURACY = load_spec().item("cnn.ThreeLayerConvNet.accuracy")


@pytest.fixture(scope="module")
def homework(tmp_path_factory, cifar10_dir):
    folder = tmp_path_factory.mktemp("homework")
    support.copy_reference(folder / "nndl")
    helpers.train_fixture_model(folder / "cnn_model.npz", cifar10_dir)
    return folder


def independent_accuracy(folder, cifar10_dir):
    from cs231n.data_utils import get_CIFAR10_data
    from cs231n.model_io import load_model
    from nndl.cnn import ThreeLayerConvNet
    data = get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=0,
                            cifar10_dir=str(cifar10_dir))
    model = load_model(str(folder / "cnn_model.npz"), ThreeLayerConvNet)
    scores = np.concatenate([model.loss(data["X_val"][i:i + 250]) for i in range(0, 1000, 250)])
    return float(np.mean(np.argmax(scores, axis=1) == data["y_val"]))


def printed_accuracy(text):
    return float(re.search(r"validation accuracy (\d+\.\d)% on the 1000", text).group(1)) / 100


def test_the_price_follows_the_spec_rule(homework, cifar10_dir):
    accuracy = independent_accuracy(homework, cifar10_dir)
    # thresholds around the fixture model's accuracy, so the price is on the linear part
    zero, full = accuracy - 0.05, accuracy + 0.15
    item = replace(ACCURACY, extras=dict(ACCURACY.extras, zero_credit_at=zero, full_credit_at=full))
    text = selfcheck.price_model(homework, str(cifar10_dir), item=item)
    assert printed_accuracy(text) == pytest.approx(accuracy, abs=0.0006)
    points = float(re.search(r"would earn ([\d.]+)/20 points", text).group(1))
    assert points == pytest.approx(20 * 0.05 / 0.20, abs=0.01)     # a quarter of the way
    assert "images it has not seen" in text and "held-out + 10%" in text


def test_the_command_prices_the_model_with_the_kit_rule(homework, cifar10_dir):
    proc = subprocess.run([sys.executable, "-m", "autograder", "check", "--dir", str(homework),
                           "--cifar-dir", str(cifar10_dir)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    accuracy = independent_accuracy(homework, cifar10_dir)
    assert printed_accuracy(proc.stdout) == pytest.approx(accuracy, abs=0.0006)
    full, zero = ACCURACY.extras["full_credit_at"], ACCURACY.extras["zero_credit_at"]
    expected = 20 * min(max((accuracy - zero) / (full - zero), 0.0), 1.0)
    points = float(re.search(r"would earn ([\d.]+)/20 points", proc.stdout).group(1))
    assert points == pytest.approx(expected, abs=0.01)
    assert "full credit at 65%, none at 40% or below" in proc.stdout
    assert "not seen" in proc.stdout
    assert ACCURACY.id not in proc.stdout     # hidden items are not named by the self-check


def test_a_missing_or_broken_model_is_said_plainly(tmp_path, homework, cifar10_dir):
    support.copy_reference(tmp_path / "nndl")
    assert "no cnn_model.npz" in selfcheck.price_model(tmp_path, str(cifar10_dir))
    (tmp_path / "cnn_model.npz").write_bytes(b"not a zip file")
    text = selfcheck.price_model(tmp_path, str(cifar10_dir))
    assert text.startswith("Saved model: cnn_model.npz could not be scored:")
    assert "load_model" in text


def test_a_model_that_hangs_is_stopped(tmp_path, homework, cifar10_dir):
    support.variant(tmp_path, {"cnn.py": [("    def loss(self, X, y=None):\n",
                                           "    def loss(self, X, y=None):\n"
                                           "        while True:\n            pass\n")]})
    shutil.copyfile(homework / "cnn_model.npz", tmp_path / "cnn_model.npz")
    item = replace(ACCURACY, time_limit=20)
    text = selfcheck.price_model(tmp_path, str(cifar10_dir), item=item)
    assert "did not finish within 20 s" in text


def test_no_model_flag_and_item_runs_skip_the_price(homework):
    proc = subprocess.run([sys.executable, "-m", "autograder", "check", "--dir", str(homework),
                           "--item", "conv_layers.conv_forward_naive.forward"],
                          capture_output=True, text=True, timeout=600)
    assert "Saved model" not in proc.stdout and proc.returncode == 0
