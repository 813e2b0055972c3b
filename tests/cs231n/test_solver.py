import sys
import tracemalloc
import types

import numpy as np
import pytest

from cs231n.solver import Solver


class LinearSoftmax(object):
    """A linear softmax classifier with the cs231n model interface."""

    def __init__(self, input_dim, num_classes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": 0.01 * rng.standard_normal((input_dim, num_classes)),
                       "b": np.zeros(num_classes)}

    def loss(self, X, y=None):
        X = X.reshape(X.shape[0], -1)
        scores = X.dot(self.params["W"]) + self.params["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        N = X.shape[0]
        loss = -np.mean(np.log(probs[np.arange(N), y]))
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        return loss, {"W": X.T.dot(dscores), "b": dscores.sum(axis=0)}


class StepCounter(object):
    """
    One parameter w that every sgd step raises by learning_rate (its gradient is -1).

    Inputs carry their label in column 0; the model classifies perfectly when
    round(w) == good_w and gets every example wrong otherwise.
    """

    def __init__(self, good_w, num_classes=3):
        self.good_w = good_w
        self.num_classes = num_classes
        self.params = {"w": np.zeros(1)}

    def loss(self, X, y=None):
        labels = X[:, 0].astype(int)
        predicted = labels if round(float(self.params["w"][0])) == self.good_w else (labels + 1) % self.num_classes
        if y is None:
            return np.eye(self.num_classes)[predicted]
        return 0.0, {"w": -np.ones(1)}


def clusters(num_train=300, num_val=90, dim=6, num_classes=3, seed=0):
    """Well separated Gaussian clusters, one per class."""
    rng = np.random.default_rng(seed)
    centres = 3 * rng.standard_normal((num_classes, dim))

    def sample(n):
        y = rng.integers(num_classes, size=n)
        return centres[y] + 0.5 * rng.standard_normal((n, dim)), y

    X_train, y_train = sample(num_train)
    X_val, y_val = sample(num_val)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def labelled_rows(n, num_classes=3):
    y = np.arange(n) % num_classes
    return np.stack([y, np.arange(n)], axis=1).astype(float), y


def fake_sgd(w, dw, config=None):
    config = dict(config) if config else {}
    config.setdefault("learning_rate", 1e-2)
    fake_optim.learning_rates.append(config["learning_rate"])
    if "nested" in config:
        config["nested"]["calls"] += 1  # in place, as a careless rule might
    return w - config["learning_rate"] * dw, config


def fake_adam(w, dw, config=None):
    return fake_sgd(w, dw, config)


def _not_a_rule(w, dw, config=None):
    raise AssertionError("private helpers are not update rules")


fake_optim = types.ModuleType("nndl.optim")
fake_optim.np = np
fake_optim.sgd = fake_sgd
fake_optim.adam = fake_adam
fake_optim._helper = _not_a_rule
fake_optim.learning_rates = []


@pytest.fixture
def optim(monkeypatch):
    """Stand-in for nndl.optim, so these tests do not depend on the reference solution."""
    fake_optim.learning_rates = []
    monkeypatch.setitem(sys.modules, "nndl.optim", fake_optim)
    return fake_optim


def test_training_records_every_loss_and_one_accuracy_per_epoch(optim):
    data = clusters()
    solver = Solver(LinearSoftmax(6, 3), data, update_rule="sgd", optim_config={"learning_rate": 0.5},
                    batch_size=50, num_epochs=4, verbose=False, seed=0)
    solver.train()

    assert len(solver.loss_history) == 4 * (300 // 50)
    # One entry after the first step, then one per epoch (the last step ends epoch 4).
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 1 + 4
    assert solver.epoch == 4
    assert np.mean(solver.loss_history[-6:]) < 0.5 * np.mean(solver.loss_history[:3])
    assert solver.val_acc_history[-1] > 0.9


def test_best_parameters_are_restored_after_training_even_if_later_epochs_are_worse(optim):
    X, y = labelled_rows(5)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    model = StepCounter(good_w=2)
    solver = Solver(model, data, optim_config={"learning_rate": 1.0}, batch_size=5, num_epochs=4,
                    verbose=False, seed=0)
    solver.train()

    # w is 1, 2, 3, 4 after the four one-step epochs; only w == 2 classifies correctly.
    assert solver.val_acc_history == [0.0, 1.0, 0.0, 0.0]
    assert solver.best_val_acc == 1.0
    np.testing.assert_array_equal(solver.best_params["w"], [2.0])
    np.testing.assert_array_equal(model.params["w"], [2.0])
    assert model.params["w"] is not solver.best_params["w"]


def test_best_params_are_copies_and_give_the_best_validation_accuracy(optim):
    data = clusters()
    model = LinearSoftmax(6, 3)
    solver = Solver(model, data, optim_config={"learning_rate": 0.5}, batch_size=50, num_epochs=3,
                    verbose=False, seed=1)
    solver.train()

    assert solver.best_val_acc == max(solver.val_acc_history)
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(model.params[name], value)
        assert not np.shares_memory(model.params[name], value)
    predicted = np.argmax(data["X_val"].dot(model.params["W"]) + model.params["b"], axis=1)
    assert np.mean(predicted == data["y_val"]) == solver.best_val_acc


def run(seed, optim_config=None):
    solver = Solver(LinearSoftmax(6, 3), clusters(), optim_config=optim_config or {"learning_rate": 0.3},
                    batch_size=20, num_epochs=2, verbose=False, seed=seed, num_train_samples=50,
                    num_val_samples=40)
    solver.train()
    return solver


def test_the_same_seed_gives_identical_histories_and_parameters(optim):
    first, second = run(seed=7), run(seed=7)
    assert first.loss_history == second.loss_history
    assert first.train_acc_history == second.train_acc_history
    assert first.val_acc_history == second.val_acc_history
    for name in first.model.params:
        np.testing.assert_array_equal(first.model.params[name], second.model.params[name])
    assert run(seed=8).loss_history != first.loss_history


def test_sampling_leaves_the_global_random_state_alone(optim):
    np.random.seed(123)
    expected = np.random.random_sample(3)
    np.random.seed(123)
    run(seed=None)
    np.testing.assert_array_equal(np.random.random_sample(3), expected)


def test_learning_rate_decays_after_every_epoch(optim):
    X, y = labelled_rows(6)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    solver = Solver(StepCounter(good_w=0), data, optim_config={"learning_rate": 1.0}, lr_decay=0.5,
                    batch_size=2, num_epochs=3, verbose=False)
    solver.train()

    assert optim.learning_rates == [1.0] * 3 + [0.5] * 3 + [0.25] * 3
    assert solver.optim_configs["w"]["learning_rate"] == 0.125


def test_every_parameter_gets_its_own_copy_of_optim_config(optim):
    user_config = {"learning_rate": 0.1, "nested": {"calls": 0}}
    solver = Solver(LinearSoftmax(6, 3), clusters(), optim_config=user_config, batch_size=100,
                    num_epochs=2, verbose=False, seed=0)
    solver.train()

    assert user_config == {"learning_rate": 0.1, "nested": {"calls": 0}}
    assert solver.optim_configs["W"]["nested"]["calls"] == 6
    assert solver.optim_configs["b"]["nested"]["calls"] == 6


def test_an_unknown_update_rule_is_rejected_with_the_valid_names(optim):
    with pytest.raises(ValueError) as error:
        Solver(LinearSoftmax(6, 3), clusters(), update_rule="sgdd")
    message = str(error.value)
    assert "sgdd" in message and "adam, sgd" in message
    assert "_helper" not in message and "np" not in message.split(":")[-1]


def test_unknown_keyword_arguments_are_rejected(optim):
    with pytest.raises(ValueError, match="learning_rate"):
        Solver(LinearSoftmax(6, 3), clusters(), learning_rate=0.1)


def test_update_rules_are_looked_up_by_name(optim):
    solver = Solver(LinearSoftmax(6, 3), clusters(), update_rule="adam")
    assert solver.update_rule is fake_adam


class RecordingModel(LinearSoftmax):
    """Remembers the rows (column 0 holds the row number) of every scoring call."""

    def __init__(self):
        super().__init__(2, 3)
        self.calls = []

    def loss(self, X, y=None):
        if y is None:
            self.calls.append(X[:, 1].astype(int))
        return super().loss(X, y)


def test_check_accuracy_scores_every_example_in_batches(optim):
    X, y = labelled_rows(23)
    model = RecordingModel()
    solver = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y}, verbose=False)

    accuracy = solver.check_accuracy(X, y, batch_size=5)

    expected = np.mean(np.argmax(X.dot(model.params["W"]) + model.params["b"], axis=1) == y)
    assert accuracy == expected
    assert [len(rows) for rows in model.calls] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate(model.calls), np.arange(23))


def test_check_accuracy_subsamples_distinct_examples(optim):
    X, y = labelled_rows(50)
    model = RecordingModel()
    solver = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y}, verbose=False, seed=0)

    accuracy = solver.check_accuracy(X, y, num_samples=20)

    seen = np.concatenate(model.calls)
    assert len(seen) == len(set(seen)) == 20
    expected = np.mean(np.argmax(X[seen].dot(model.params["W"]) + model.params["b"], axis=1) == y[seen])
    assert accuracy == pytest.approx(expected)


def test_a_training_step_copies_the_minibatch_not_the_training_set(optim):
    rng = np.random.default_rng(0)
    data = clusters(num_train=10, num_val=10, dim=300)
    data["X_train"] = rng.standard_normal((5000, 300))
    data["y_train"] = rng.integers(3, size=5000)
    solver = Solver(LinearSoftmax(300, 3), data, batch_size=10, num_epochs=1, verbose=False,
                    num_train_samples=50, seed=0)

    tracemalloc.start()
    try:
        solver.train()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(solver.loss_history) == 500
    assert peak < 0.1 * data["X_train"].nbytes


def test_verbose_prints_losses_and_accuracies(optim, capsys):
    Solver(LinearSoftmax(6, 3), clusters(), batch_size=100, num_epochs=2, print_every=2, seed=0).train()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(")")[0] for line in lines if line.startswith("(Iteration")] == [
        "(Iteration 1 / 6", "(Iteration 3 / 6", "(Iteration 5 / 6"]
    assert sum(line.startswith("(Epoch") for line in lines) == 3

    Solver(LinearSoftmax(6, 3), clusters(), batch_size=100, num_epochs=2, verbose=False).train()
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("rule, learning_rate", [
    ("sgd", 0.5), ("sgd_momentum", 0.1), ("sgd_nesterov_momentum", 0.1), ("rmsprop", 0.01), ("adam", 0.01)])
def test_reference_update_rules_train_a_linear_classifier(rule, learning_rate):
    pytest.importorskip("nndl.optim")
    solver = Solver(LinearSoftmax(6, 3), clusters(), update_rule=rule,
                    optim_config={"learning_rate": learning_rate}, batch_size=50, num_epochs=5,
                    verbose=False, seed=0)
    solver.train()
    assert solver.best_val_acc > 0.9
    assert np.mean(solver.loss_history[-6:]) < np.mean(solver.loss_history[:3])


class MinibatchRecorder(LinearSoftmax):
    """LinearSoftmax that records the rows of every training minibatch (column 1 of X is its index)."""

    def __init__(self, input_dim, num_classes):
        super().__init__(input_dim, num_classes)
        self.batches = []

    def loss(self, X, y=None):
        if y is not None:
            self.batches.append(X[:, 1].astype(int).copy())
        return super().loss(X, y)


def test_shuffle_visits_every_example_once_per_epoch(optim):
    X, y = labelled_rows(60)
    data = {"X_train": X, "y_train": y, "X_val": X[:6], "y_val": y[:6]}
    model = MinibatchRecorder(2, 3)
    solver = Solver(model, data, update_rule="sgd", batch_size=25, num_epochs=3,
                    shuffle=True, verbose=False, seed=0)
    solver.train()
    # 60 // 25 = 2 minibatches per epoch; the 10 left over wait for no one.
    assert len(model.batches) == 6
    epochs = [np.concatenate(model.batches[i:i + 2]) for i in (0, 2, 4)]
    for seen in epochs:
        assert len(set(seen.tolist())) == 50
    assert not np.array_equal(epochs[0], epochs[1])  # a new order every epoch


def test_without_shuffle_minibatches_are_sampled_with_replacement(optim):
    X, y = labelled_rows(20)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    model = MinibatchRecorder(2, 3)
    Solver(model, data, update_rule="sgd", batch_size=20, num_epochs=5,
           verbose=False, seed=0).train()
    assert any(len(set(batch.tolist())) < 20 for batch in model.batches)


def test_shuffle_with_a_batch_larger_than_the_training_set_uses_every_example(optim):
    X, y = labelled_rows(7)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    model = MinibatchRecorder(2, 3)
    Solver(model, data, update_rule="sgd", batch_size=10, num_epochs=2, shuffle=True,
           verbose=False, seed=0).train()
    assert [sorted(batch.tolist()) for batch in model.batches] == [list(range(7))] * 2


def test_augment_changes_training_minibatches_only(optim):
    X, y = labelled_rows(30)
    data = {"X_train": X, "y_train": y, "X_val": X[:9], "y_val": y[:9]}
    seen = []

    def mark(X_batch, rng):
        assert isinstance(rng, np.random.Generator)
        seen.append(X_batch.shape)
        out = X_batch.copy()
        out[:, 1] = -1  # every augmented row claims index -1
        return out

    model = MinibatchRecorder(2, 3)
    solver = Solver(model, data, update_rule="sgd", batch_size=10, num_epochs=2,
                    augment=mark, verbose=False, seed=0)
    solver.train()
    assert seen == [(10, 2)] * 6
    assert all((batch == -1).all() for batch in model.batches)
    assert (data["X_train"][:, 1] == np.arange(30)).all()  # the training set is untouched


class BatchnormStatistics(LinearSoftmax):
    """LinearSoftmax with a bn_params entry whose running mean counts training steps."""

    def __init__(self, input_dim, num_classes):
        super().__init__(input_dim, num_classes)
        self.bn_params = [{"mode": "train", "running_mean": np.zeros(1), "running_var": np.ones(1)}]

    def loss(self, X, y=None):
        if y is not None:
            self.bn_params[0]["running_mean"] += 1  # in place, as batchnorm layers do
        return super().loss(X, y)


def test_the_best_snapshot_restores_the_batchnorm_running_statistics_too(optim, monkeypatch):
    data = clusters()
    model = BatchnormStatistics(6, 3)
    solver = Solver(model, data, update_rule="sgd", batch_size=100, num_epochs=4,
                    verbose=False, seed=0)
    accuracies = iter([0.5, 0.2, 0.6, 0.7, 0.8, 0.1, 0.2, 0.3, 0.4, 0.2])
    # Accuracy checks alternate train, val, at the start and after each epoch:
    # the best val (0.7) is the first epoch's.
    monkeypatch.setattr(solver, "check_accuracy", lambda *a, **k: next(accuracies))
    solver.train()
    assert solver.best_val_acc == 0.7
    # 3 steps per epoch: the snapshot after epoch 1 holds 3, training ended at 12.
    assert model.bn_params[0]["running_mean"][0] == 3
    model.bn_params[0]["running_mean"] += 1
    assert solver._best_statistics[0]["running_mean"][0] == 3  # the snapshot stays a copy


class Float64Gradients(LinearSoftmax):
    """float32 parameters whose loss returns float64 gradients (np.zeros without a dtype)."""

    def __init__(self, input_dim, num_classes):
        super().__init__(input_dim, num_classes)
        self.params = {k: v.astype(np.float32) for k, v in self.params.items()}

    def loss(self, X, y=None):
        result = super().loss(X.astype(np.float64), y)
        if y is None:
            return result
        loss, grads = result
        return loss, {k: g.astype(np.float64) for k, g in grads.items()}


def test_update_rules_get_gradients_in_their_parameters_dtype(monkeypatch):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 6)).astype(np.float32)
    y = rng.integers(3, size=40)
    model = Float64Gradients(6, 3)
    seen = []
    solver = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
                    update_rule="sgd", batch_size=10, num_epochs=2, verbose=False, seed=0)
    rule = solver.update_rule

    def spy(w, dw, config):
        seen.append((w.dtype, dw.dtype))
        return rule(w, dw, config)

    solver.update_rule = spy
    solver.train()
    assert seen and all(w == dw == np.float32 for w, dw in seen)
    # w - learning_rate * dw of float32 arrays: the weights stay float32.
    assert all(p.dtype == np.float32 for p in model.params.values())
