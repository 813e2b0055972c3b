import json
import os

import numpy as np
import pytest

from cs231n import model_io
from cs231n.model_io import constructor_arguments, load_model, save_model


class TinyConvNet(object):
    """
    Shaped like ThreeLayerConvNet but stores none of the size arguments, so
    they must be recovered from the parameter shapes.
    """

    def __init__(self, input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=5,
                 num_classes=3, weight_scale=1e-2, reg=0.0, dtype=np.float32, use_batchnorm=False):
        self.received = dict(input_dim=input_dim, num_filters=num_filters, filter_size=filter_size,
                             hidden_dim=hidden_dim, num_classes=num_classes, dtype=dtype,
                             use_batchnorm=use_batchnorm, reg=reg)
        self.reg = reg
        self.dtype = dtype
        self.use_batchnorm = use_batchnorm
        C, H, W = input_dim
        shapes = {"W1": (num_filters, C, filter_size, filter_size), "b1": (num_filters,),
                  "W2": (num_filters * (H // 2) * (W // 2), hidden_dim), "b2": (hidden_dim,),
                  "W3": (hidden_dim, num_classes), "b3": (num_classes,)}
        self.bn_params = []
        if use_batchnorm:
            shapes.update(gamma1=(num_filters,), beta1=(num_filters,), gamma2=(hidden_dim,),
                          beta2=(hidden_dim,))
            self.bn_params = [{"mode": "train"}, {"mode": "train"}]
        self.params = {name: (weight_scale * np.random.randn(*shape)).astype(dtype)
                       for name, shape in shapes.items()}


class StoresInputDim(TinyConvNet):
    """Like the real ThreeLayerConvNet, keeps input_dim as an attribute."""

    def __init__(self, input_dim=(3, 8, 8), **kwargs):
        super().__init__(input_dim=input_dim, **kwargs)
        self.input_dim = tuple(input_dim)


def trained_like(model, seed=0):
    """Give every parameter and running statistic distinctive values, as training would."""
    rng = np.random.default_rng(seed)
    for name, value in model.params.items():
        model.params[name] = rng.standard_normal(value.shape).astype(value.dtype)
    widths = [model.params["gamma1"].shape[0], model.params["gamma2"].shape[0]] if model.bn_params else []
    for bn_param, width in zip(model.bn_params, widths):
        bn_param["running_mean"] = rng.standard_normal(width)
        bn_param["running_var"] = rng.uniform(0.5, 2.0, width)
    return model


def test_round_trip_restores_arguments_parameters_and_running_statistics(tmp_path, monkeypatch):
    original = trained_like(StoresInputDim(input_dim=(3, 6, 6), num_filters=6, filter_size=5,
                                           hidden_dim=7, num_classes=4, dtype=np.float64,
                                           use_batchnorm=True, reg=0.25))
    path = tmp_path / "model.npz"
    save_model(original, path)

    load_kwargs = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: load_kwargs.append(k) or real_load(*a, **k))
    loaded = load_model(path, StoresInputDim)

    assert load_kwargs == [{"allow_pickle": False}]
    assert loaded.received == dict(input_dim=(3, 6, 6), num_filters=6, filter_size=5, hidden_dim=7,
                                   num_classes=4, dtype=np.float64, use_batchnorm=True, reg=0.25)
    assert sorted(loaded.params) == sorted(original.params)
    for name, value in original.params.items():
        assert loaded.params[name].dtype == np.float64
        np.testing.assert_array_equal(loaded.params[name], value)
    for saved_bn, loaded_bn in zip(original.bn_params, loaded.bn_params):
        np.testing.assert_array_equal(loaded_bn["running_mean"], saved_bn["running_mean"])
        np.testing.assert_array_equal(loaded_bn["running_var"], saved_bn["running_var"])


def test_file_holds_only_plain_arrays_and_a_format_version(tmp_path):
    path = tmp_path / "model.npz"
    save_model(trained_like(TinyConvNet(use_batchnorm=True)), path)
    with np.load(path, allow_pickle=False) as saved:
        contents = {key: saved[key] for key in saved.files}
    assert int(contents["format_version"]) == model_io.FORMAT_VERSION
    args = json.loads(str(contents["constructor_args"]))
    assert args["num_filters"] == 4 and args["use_batchnorm"] is True
    assert all(value.dtype != object for value in contents.values())
    assert {"param:W1", "param:gamma2", "bn:1:running_var"} <= set(contents)


def test_sizes_come_from_parameter_shapes_when_the_model_does_not_store_them():
    model = TinyConvNet(num_filters=6, filter_size=5, hidden_dim=9, num_classes=2)
    args = constructor_arguments(model)
    assert (args["num_filters"], args["filter_size"], args["hidden_dim"], args["num_classes"]) == (6, 5, 9, 2)
    assert args["input_dim"] == (3, 8, 8)  # not implied by conv weights: the default
    assert args["dtype"] is np.float32 and args["use_batchnorm"] is False


def test_path_is_used_exactly_and_nothing_else_is_left_behind(tmp_path):
    save_model(TinyConvNet(), tmp_path / "model.bin")
    assert os.listdir(tmp_path) == ["model.bin"]
    assert load_model(tmp_path / "model.bin", TinyConvNet).params["W1"].shape == (4, 3, 3, 3)


def test_loading_leaves_the_global_random_state_alone(tmp_path):
    save_model(TinyConvNet(), tmp_path / "model.npz")
    np.random.seed(5)
    expected = np.random.random_sample(2)
    np.random.seed(5)
    load_model(tmp_path / "model.npz", TinyConvNet)
    np.testing.assert_array_equal(np.random.random_sample(2), expected)


class WiderHidden(TinyConvNet):
    def __init__(self, hidden_dim=5, **kwargs):
        super().__init__(hidden_dim=hidden_dim + 1, **kwargs)


class NoLastBias(TinyConvNet):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        del self.params["b3"]


def test_a_shape_mismatch_names_the_parameters(tmp_path):
    save_model(TinyConvNet(), tmp_path / "model.npz")
    with pytest.raises(ValueError) as error:
        load_model(tmp_path / "model.npz", WiderHidden)
    message = str(error.value)
    # TinyConvNet defaults: 4 filters on 8x8 inputs pooled to 4x4 -> W2 has 64 rows.
    assert "W2 has shape (64, 5) in the file, (64, 6) in the model" in message
    assert "W3" in message and "b2" in message and "W1" not in message


def test_a_missing_or_extra_parameter_is_named(tmp_path):
    save_model(TinyConvNet(), tmp_path / "model.npz")
    with pytest.raises(ValueError, match="b3 in the file but not in the model"):
        load_model(tmp_path / "model.npz", NoLastBias)
    save_model(NoLastBias(), tmp_path / "short.npz")
    with pytest.raises(ValueError, match="b3 missing from the file"):
        load_model(tmp_path / "short.npz", TinyConvNet)


def test_running_statistics_for_layers_the_model_lacks_are_an_error(tmp_path):
    model = trained_like(TinyConvNet(use_batchnorm=True))
    model.bn_params.append({"running_mean": np.zeros(3), "running_var": np.ones(3)})
    save_model(model, tmp_path / "model.npz")
    with pytest.raises(ValueError, match="3 batchnorm layers"):
        load_model(tmp_path / "model.npz", TinyConvNet)


def rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as saved:
        contents = {key: saved[key] for key in saved.files}
    contents.update(changes)
    contents = {key: value for key, value in contents.items() if value is not None}
    with open(path, "wb") as f:
        np.savez(f, **contents)


def test_an_unknown_format_version_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    save_model(TinyConvNet(), path)
    rewrite(path, format_version=np.array(99))
    with pytest.raises(ValueError, match="version 99"):
        load_model(path, TinyConvNet)


def test_a_file_without_a_format_version_is_refused(tmp_path):
    path = tmp_path / "weights.npz"
    save_model(TinyConvNet(), path)
    rewrite(path, format_version=None)
    with pytest.raises(ValueError, match="format_version"):
        load_model(path, TinyConvNet)


class NeedsSecret(TinyConvNet):
    def __init__(self, secret, **kwargs):
        super().__init__(**kwargs)


class OddArgument(TinyConvNet):
    def __init__(self, helper=None, **kwargs):
        super().__init__(**kwargs)
        self.helper = object()


def test_arguments_that_cannot_be_recovered_or_stored_are_errors(tmp_path):
    with pytest.raises(ValueError, match="secret"):
        save_model(NeedsSecret(secret=1), tmp_path / "a.npz")
    with pytest.raises(ValueError, match="object"):
        save_model(OddArgument(), tmp_path / "b.npz")
    assert os.listdir(tmp_path) == []


def test_reference_fully_connected_net_round_trip_gives_the_same_scores(tmp_path):
    fc_net = pytest.importorskip("nndl.fc_net")
    np.random.seed(0)
    model = fc_net.FullyConnectedNet([6, 5], input_dim=12, num_classes=4, use_batchnorm=True,
                                     dtype=np.float64)
    X = np.random.randn(20, 12)
    model.loss(X, np.arange(20) % 4)  # a training pass moves the running statistics
    save_model(model, tmp_path / "fc.npz")

    loaded = load_model(tmp_path / "fc.npz", fc_net.FullyConnectedNet)
    assert loaded.num_layers == 3 and loaded.dtype is np.float64
    np.testing.assert_array_equal(loaded.loss(X), model.loss(X))


def test_reference_three_layer_convnet_round_trip(tmp_path):
    cnn = pytest.importorskip("nndl.cnn")
    model = trained_like(cnn.ThreeLayerConvNet(input_dim=(3, 10, 10), num_filters=5, filter_size=3,
                                               hidden_dim=8, num_classes=6, use_batchnorm=True))
    save_model(model, tmp_path / "cnn.npz")
    loaded = load_model(tmp_path / "cnn.npz", cnn.ThreeLayerConvNet)
    assert loaded.input_dim == (3, 10, 10) and loaded.use_batchnorm
    for name, value in model.params.items():
        assert loaded.params[name].dtype == np.float32
        np.testing.assert_array_equal(loaded.params[name], value)
    for saved_bn, loaded_bn in zip(model.bn_params, loaded.bn_params):
        np.testing.assert_array_equal(loaded_bn["running_mean"], saved_bn["running_mean"])


class DictBatchnormNet(StoresInputDim):
    """The original course template's layout: bn_params a dict of dicts without statistics."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.use_batchnorm:
            self.bn_params = {"bn_param1": {"mode": "train"}, "bn_param2": {"mode": "train"}}


class AttributeBatchnormNet(StoresInputDim):
    """bn_param dicts kept as attributes, beside a dropout dict that is not batchnorm state."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        del self.bn_params
        self.bn_param1, self.bn_param2 = {"mode": "train"}, {"mode": "train"}
        self.dropout_param = {"mode": "train", "p": 0.5}


@pytest.mark.parametrize("cls, layers", [
    (DictBatchnormNet, lambda m: list(m.bn_params.values())),
    (AttributeBatchnormNet, lambda m: [m.bn_param1, m.bn_param2]),
])
def test_running_statistics_round_trip_wherever_the_model_keeps_them(tmp_path, cls, layers):
    original = cls(input_dim=(3, 6, 6), num_filters=4, hidden_dim=5, use_batchnorm=True)
    rng = np.random.default_rng(1)
    for bn_param, width in zip(layers(original), (4, 5)):
        bn_param["running_mean"] = rng.standard_normal(width)
        bn_param["running_var"] = rng.uniform(0.5, 2.0, width)
    path = tmp_path / "model.npz"
    save_model(original, path)
    with np.load(path) as saved:
        assert sorted(k for k in saved.files if k.startswith("bn:")) == [
            "bn:0:running_mean", "bn:0:running_var", "bn:1:running_mean", "bn:1:running_var"]
    loaded = load_model(path, cls)
    for saved_bn, loaded_bn in zip(layers(original), layers(loaded)):
        for stat in ("running_mean", "running_var"):
            np.testing.assert_array_equal(loaded_bn[stat], saved_bn[stat])
    assert "running_mean" not in getattr(loaded, "dropout_param", {})


def test_template_style_reference_layers_score_the_same_after_a_round_trip(tmp_path):
    # a model whose bn_params is a dict, trained a little: test-mode scores survive save/load
    from autograder.checks.loading import load_nndl
    from tests.autograder.test_alternatives import template_nndl
    cls = load_nndl(template_nndl(tmp_path / "nndl"))["cnn"].ThreeLayerConvNet
    # the default input_dim: the template keeps no attribute that tells the image size
    model = cls(num_filters=3, filter_size=3, hidden_dim=6, num_classes=4,
                dtype=np.float64, use_batchnorm=True, weight_scale=0.1)
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((5, 3, 32, 32)), rng.integers(0, 4, 5)
    for _ in range(3):
        model.loss(X + rng.standard_normal(X.shape), y)
    for bn_param in model.bn_params.values():
        bn_param["mode"] = "test"   # the template's loss never sets it (one of its bugs)
    before = model.loss(X)
    path = tmp_path / "model.npz"
    save_model(model, path)
    loaded = load_model(path, cls)
    for bn_param in loaded.bn_params.values():
        bn_param["mode"] = "test"
    np.testing.assert_allclose(loaded.loss(X), before, rtol=1e-12)
    fresh = cls(num_filters=3, filter_size=3, hidden_dim=6, num_classes=4, dtype=np.float64,
                use_batchnorm=True)
    fresh.params = loaded.params
    for bn_param in fresh.bn_params.values():
        bn_param["mode"] = "test"
    assert not np.allclose(fresh.loss(X), before)  # the statistics are what made the difference
