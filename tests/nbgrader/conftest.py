import pytest



@pytest.fixture(scope="session")
def reference_model(tmp_path_factory, cifar10_dir):
    """A model file the reference trains in a few seconds (well below 40% accuracy).

    Returns its path; its validation accuracy is on the fixture as .accuracy.
    """
    import sys
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "solutions"))
    from cs231n.data_utils import get_CIFAR10_data
    from cs231n.model_io import save_model
    from cs231n.solver import Solver
    from nndl.cnn import ThreeLayerConvNet

    data = get_CIFAR10_data(num_training=1000, num_validation=1000, num_test=0,
                            cifar10_dir=str(cifar10_dir))
    np.random.seed(0)
    model = ThreeLayerConvNet(num_filters=8, filter_size=3, hidden_dim=50, weight_scale=1e-2,
                              use_batchnorm=True)
    solver = Solver(model, data, num_epochs=1, batch_size=100, update_rule="adam",
                    optim_config={"learning_rate": 1e-3}, verbose=False, seed=0)
    solver.train()
    path = tmp_path_factory.mktemp("model") / "cnn_model.npz"
    save_model(model, str(path))
    return path
