"""Smoke runs of real training on CIFAR-10: the Solver with the reference
ThreeLayerConvNet learns. The full run (>= 66% validation) is the benchmark
`python -m cs231n.train_cifar`, not a test."""
import numpy as np
import pytest

from cs231n.data_utils import get_CIFAR10_data
from cs231n.model_io import load_model, save_model
from cs231n.solver import Solver
from cs231n import train_cifar
from nndl.cnn import ThreeLayerConvNet


@pytest.fixture(scope="module")
def small_cifar(cifar10_dir):
    return get_CIFAR10_data(num_training=2000, num_validation=500, num_test=500,
                            cifar10_dir=cifar10_dir)


def test_solver_overfits_100_cifar_images(small_cifar):
    data = {k: small_cifar[k][:100] if k.endswith("train") else small_cifar[k]
            for k in ("X_train", "y_train", "X_val", "y_val")}
    np.random.seed(0)
    model = ThreeLayerConvNet(num_filters=16, filter_size=3, hidden_dim=100, weight_scale=1e-2)
    solver = Solver(model, data, num_epochs=15, batch_size=50, update_rule="adam",
                    optim_config={"learning_rate": 2e-3}, verbose=False, seed=0)
    solver.train()
    assert solver.train_acc_history[-1] >= 0.9
    # Overfitting: what it memorised does not carry over to unseen images.
    assert solver.val_acc_history[-1] < solver.train_acc_history[-1] - 0.3


def test_reference_configuration_smoke_run_learns(small_cifar, tmp_path):
    # A few hundred iterations of the reference network on a subset: the loss
    # falls and accuracy beats chance (10%) by a wide margin.
    model, solver, rows = train_cifar.train(
        small_cifar, solver_kwargs={"num_epochs": 4, "batch_size": 25},
        max_iters=300, log=lambda line: None)
    losses = np.array(solver.loss_history)
    assert len(losses) == 300
    assert losses[-50:].mean() < losses[:20].mean() - 0.4
    assert max(r["val_acc"] for r in rows) >= 0.30
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]

    path = tmp_path / "cnn_model.npz"
    save_model(model, path)
    restored = load_model(path, ThreeLayerConvNet)
    X = small_cifar["X_val"][:50]
    np.testing.assert_array_equal(restored.loss(X), model.loss(X))
