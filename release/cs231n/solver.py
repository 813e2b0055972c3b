"""Minibatch training loop for classification models."""
import copy
import importlib
import inspect

import numpy as np

from cs231n.allocator import keep_freed_memory

OPTIM_MODULE = "nndl.optim"


class Solver(object):
    """
    Trains a classification model with minibatch gradient descent.

    The model must provide:
    - model.params: dict mapping parameter names to numpy arrays.
    - model.loss(X, y=None): with y=None, return class scores of shape (N, C)
      for inputs X of shape (N, d_1, ..., d_k); with labels y of shape (N,),
      return (loss, grads) where grads maps every key of model.params to an
      array of that parameter's shape.

    The data dict holds 'X_train' (N_train, d_1, ..., d_k), 'y_train' (N_train,),
    'X_val' (N_val, d_1, ..., d_k) and 'y_val' (N_val,).

    Optional keyword arguments:
    - update_rule: name of an update function in nndl.optim (default 'sgd');
      each has the form update(w, dw, config=None) -> (next_w, config). dw
      reaches it in w's dtype (a float64 gradient of a float32 weight is cast).
    - optim_config: dict of hyperparameters for the update rule; every
      parameter gets its own deep copy (default {}).
    - lr_decay: the learning rate is multiplied by this after every epoch (default 1.0).
    - batch_size: minibatch size (default 100).
    - num_epochs: number of epochs to train (default 10).
    - print_every: print the loss every this many iterations (default 10).
    - verbose: whether to print progress (default True).
    - num_train_samples: number of training images used to estimate training
      accuracy after each epoch (default 1000; None uses all).
    - num_val_samples: number of validation images used for validation
      accuracy (default None, all).
    - shuffle: if True, every epoch visits the training examples once each, in
      a new random order; if False, minibatches are sampled with replacement
      (default False).
    - augment: function (X_batch, rng) -> X_batch applied to every training
      minibatch (never to accuracy checks), such as
      cs231n.data_augmentation.random_horizontal_flip; rng is the solver's
      numpy Generator (default None, no augmentation).
    - seed: seed of the solver's own random generator, used for minibatches,
      augmentation and accuracy subsamples; the same seed gives the same
      training run for a deterministic model (default None).

    After train(): loss_history (one loss per iteration), train_acc_history and
    val_acc_history (one entry at the start, after every epoch and at the end),
    best_val_acc, and best_params (copies of the parameters with the best
    validation accuracy, which are also put back into model.params, together
    with the batchnorm running statistics in model.bn_params, if the model has
    them, from the same moment).
    """

    def __init__(self, model, data, **kwargs):
        self.model = model
        self.X_train = data["X_train"]
        self.y_train = data["y_train"]
        self.X_val = data["X_val"]
        self.y_val = data["y_val"]

        self.update_rule_name = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.shuffle = kwargs.pop("shuffle", False)
        self.augment = kwargs.pop("augment", None)
        self.seed = kwargs.pop("seed", None)
        if kwargs:
            raise ValueError("Unrecognized arguments: %s" % ", ".join(sorted(kwargs)))

        self.update_rule = _find_update_rule(self.update_rule_name)
        # Every step allocates the same big arrays again: reuse their pages.
        keep_freed_memory()
        self._reset()

    def _reset(self):
        """Clear the bookkeeping of a training run; called by the constructor."""
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = {}
        self._best_statistics = []
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.optim_configs = {name: copy.deepcopy(self.optim_config) for name in self.model.params}
        self._rng = np.random.default_rng(self.seed)
        self._epoch_order = None
        self._epoch_position = 0

    def _step(self):
        """One gradient update on a random minibatch."""
        batch_indices = self._next_batch_indices()
        # Fancy indexing copies only the minibatch rows.
        X_batch = self.X_train[batch_indices]
        y_batch = self.y_train[batch_indices]
        if self.augment is not None:
            X_batch = self.augment(X_batch, self._rng)

        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(float(loss))

        for name in list(self.model.params):
            w = self.model.params[name]
            next_w, next_config = self.update_rule(
                w, _in_dtype_of(grads[name], w), self.optim_configs[name])
            self.model.params[name] = next_w
            self.optim_configs[name] = next_config

    def _next_batch_indices(self):
        """Indices of the next minibatch: sampled with replacement, or the next
        slice of this epoch's permutation when shuffle is set."""
        num_train = self.X_train.shape[0]
        if not self.shuffle:
            return self._rng.integers(num_train, size=self.batch_size)
        end = self._epoch_position + self.batch_size
        # A new permutation when the epoch's examples run out; the remainder
        # (fewer than a minibatch) is left out, as train() counts whole batches.
        if self._epoch_order is None or (self._epoch_position > 0 and end > num_train):
            self._epoch_order = self._rng.permutation(num_train)
            self._epoch_position, end = 0, self.batch_size
        batch_indices = self._epoch_order[self._epoch_position:end]
        self._epoch_position = end
        return batch_indices

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """
        Fraction of correctly classified examples.

        Inputs:
        - X: array of shape (N, d_1, ..., d_k)
        - y: int array of shape (N,)
        - num_samples: if given and smaller than N, use a random subset of that
          many distinct examples
        - batch_size: examples per forward pass

        Returns:
        - acc: float, accuracy in [0, 1]
        """
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            subset = np.sort(self._rng.choice(N, size=num_samples, replace=False))
            X, y = X[subset], y[subset]
            N = num_samples
        if N == 0:
            return 0.0

        correct = 0
        for start in range(0, N, batch_size):
            scores = self.model.loss(X[start:start + batch_size])
            correct += int(np.sum(np.argmax(scores, axis=1) == y[start:start + batch_size]))
        return correct / N

    def train(self):
        """Run the optimization, then put the best parameters into the model."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        for t in range(num_iterations):
            self._step()
            if self.verbose and t % self.print_every == 0:
                print("(Iteration %d / %d) loss: %f" % (t + 1, num_iterations, self.loss_history[-1]))

            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    if "learning_rate" in config:
                        config["learning_rate"] *= self.lr_decay

            if t == 0 or epoch_end or t == num_iterations - 1:
                self._record_accuracies()

        self._restore_best()

    def _record_accuracies(self):
        train_acc = self.check_accuracy(self.X_train, self.y_train,
                                        num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if self.verbose:
            print("(Epoch %d / %d) train acc: %f; val_acc: %f"
                  % (self.epoch, self.num_epochs, train_acc, val_acc))
        self._keep_if_best(val_acc)

    def _keep_if_best(self, val_acc):
        """Snapshot the model if val_acc is the best so far."""
        # Copy only on improvement: update rules may change arrays in place.
        if not self.best_params or val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {name: value.copy() for name, value in self.model.params.items()}
            # The running statistics belong to the snapshot: the best parameters
            # with a later epoch's statistics score differently in test mode.
            self._best_statistics = _running_statistics(self.model)

    def _restore_best(self):
        """Put the best snapshot (parameters and running statistics) into the model."""
        for name, value in self.best_params.items():
            self.model.params[name] = value.copy()
        for bn_param, saved in zip(_batchnorm_params(self.model), self._best_statistics):
            bn_param.update({key: value.copy() for key, value in saved.items()})


def _in_dtype_of(dw, w):
    """The gradient dw in the dtype of its float parameter w. A float64 gradient of a
    float32 weight (a layer that allocates np.zeros or np.ones without a dtype) would
    make update rules such as w - learning_rate * dw return float64 weights, and every
    later step of the network run in float64, at twice the memory and time."""
    w_dtype, dw_dtype = getattr(w, "dtype", None), getattr(dw, "dtype", None)
    if (w_dtype is None or dw_dtype is None or w_dtype == dw_dtype
            or not np.issubdtype(w_dtype, np.floating) or not np.issubdtype(dw_dtype, np.floating)):
        return dw
    return dw.astype(w_dtype)


def _batchnorm_params(model):
    """The dicts of model.bn_params (a list, or a dict of them), or []."""
    bn_params = getattr(model, "bn_params", None) or []
    if isinstance(bn_params, dict):
        bn_params = list(bn_params.values())
    return [bn_param for bn_param in bn_params if isinstance(bn_param, dict)]


def _running_statistics(model):
    """Copies of the running mean and variance in each batchnorm layer's parameters."""
    return [{key: np.array(bn_param[key], copy=True) for key in ("running_mean", "running_var")
             if key in bn_param} for bn_param in _batchnorm_params(model)]


def _find_update_rule(name):
    """The function called `name` in nndl.optim; ValueError listing the valid names otherwise."""
    optim = importlib.import_module(OPTIM_MODULE)
    rules = sorted(key for key, value in vars(optim).items()
                   if not key.startswith("_") and inspect.isfunction(value))
    if name not in rules:
        raise ValueError("Invalid update_rule %r; %s provides: %s"
                         % (name, OPTIM_MODULE, ", ".join(rules)))
    return getattr(optim, name)
