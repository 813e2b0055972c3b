"""What a grading process prepares once and reuses across the submissions of a class: the
accuracy item's splits (per set of inputs), the reference model the trusted evaluation
rebuilds (per shape), and the trusted evaluation run beside the student's. Each reuse must
give exactly what a fresh computation gives."""
import os
import threading

import numpy as np
import pytest

from autograder.grade import data
from autograder.grade.beside import Beside
from tests.autograder.grade import helpers
from tests.autograder.grade.test_accuracy_integrity import (_bytes, _reference_class,
                                                            _reference_modules, _saved_variant)

SEED = 4


# ---- the accuracy splits ---------------------------------------------------------------------

def test_the_splits_of_one_seed_are_prepared_once_and_cannot_be_changed(cifar10_dir):
    first = data.accuracy_splits(str(cifar10_dir), seed=SEED, num_validation=50, num_heldout=40)
    again = data.accuracy_splits(str(cifar10_dir), seed=SEED, num_validation=50, num_heldout=40)
    for name in ("val", "heldout"):
        for a, b in zip(first[name], again[name]):
            assert np.array_equal(a, b)
            assert not a.flags.writeable   # shared by every submission of the process
    with pytest.raises(ValueError):
        first["heldout"][0][0, 0, 0, 0] = 1.0
    first["extra"] = None                  # the dict is the caller's own
    assert "extra" not in data.accuracy_splits(str(cifar10_dir), seed=SEED, num_validation=50,
                                               num_heldout=40)
    other = data.accuracy_splits(str(cifar10_dir), seed=SEED + 1, num_validation=50,
                                 num_heldout=40)
    assert not np.array_equal(other["heldout"][0], first["heldout"][0])
    plain = data.accuracy_splits(str(cifar10_dir), seed=SEED, num_validation=50, num_heldout=40,
                                 transform=data.IDENTITY)
    assert not np.array_equal(plain["heldout"][0], first["heldout"][0])
    assert sorted(plain["heldout"][1]) == sorted(first["heldout"][1])


def test_a_rewritten_heldout_file_is_read_again(tmp_path, cifar10_dir):
    path = helpers.write_heldout(tmp_path / "h.npz", helpers.heldout_images(120, seed=1))
    before = data.accuracy_splits(str(cifar10_dir), seed=SEED, num_validation=20,
                                  num_heldout=120, heldout_file=str(path))
    info = os.stat(path)
    helpers.write_heldout(path, helpers.heldout_images(120, seed=2))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 10 ** 9))
    after = data.accuracy_splits(str(cifar10_dir), seed=SEED, num_validation=20,
                                 num_heldout=120, heldout_file=str(path))
    expected = helpers.preprocessed(helpers.heldout_images(120, seed=2), cifar10_dir)
    assert not np.array_equal(before["heldout"][0], after["heldout"][0])
    assert sorted(map(bytes, after["heldout"][0])) == sorted(map(bytes, expected))


# ---- the trusted rebuild ------------------------------------------------------------------------

def test_the_reused_reference_model_predicts_as_a_fresh_one_for_each_file(tmp_path):
    """Files of one shape in turn (as a reference worker sees a class): each file's predictions
    are its own weights' and statistics', none left over from the file before."""
    from autograder.checks import trusted_model
    from cs231n.model_io import load_model
    first = _saved_variant(tmp_path, lambda e: None)
    second = _saved_variant(tmp_path, lambda e: e.update({
        "param:W3": -e["param:W3"], "bn:1:running_mean": e["bn:1:running_mean"] + 0.5}))
    X = np.random.default_rng(2).normal(size=(40, 3, 32, 32)).astype(np.float32)
    expected = {path: np.argmax(load_model(str(path), _reference_class()).loss(X), axis=1)
                for path in (first, second)}
    assert not np.array_equal(expected[first], expected[second])
    modules = _reference_modules()   # one reference worker's modules
    state = np.random.get_state()
    built = set()
    for path in (first, second, first, second):
        out = trusted_model.predictions(modules, _bytes(path), {"val": X})
        assert np.array_equal(out["pred.val"], expected[path])
        built.update(id(net) for net in trusted_model._NETS.values())
    assert len(built) == 1                                      # built once, reused
    assert np.array_equal(np.random.get_state()[1], state[1])   # the global stream untouched


# ---- beside ------------------------------------------------------------------------------------

def test_beside_returns_the_calls_value_or_raises_its_error_in_the_caller():
    started, release = threading.Event(), threading.Event()

    def call(value):
        started.set()
        release.wait(10)
        return value * 2

    with Beside(call, 21) as pending:
        assert started.wait(10)             # it runs while the caller goes on
        release.set()
        assert pending.result() == 42

    def failing():
        raise KeyError("in the call")

    with pytest.raises(KeyError, match="in the call"):
        Beside(failing).result()


def test_beside_is_waited_for_when_the_block_raises():
    finished = []

    def slow():
        threading.Event().wait(0.2)
        finished.append(True)

    with pytest.raises(RuntimeError):
        with Beside(slow):
            raise RuntimeError("the student's side failed")
    assert finished == [True]   # the session is free for the next request


# ---- the trusted evaluation's share of the validation images ---------------------------------

def test_the_reference_classifies_the_heldout_images_and_the_agreement_share_only():
    # The student's code classifies every validation image; the reference, which classifies
    # the held-out ones, needs only the first agreement_images of them for the guard.
    from types import SimpleNamespace

    from autograder.grade import run_accuracy
    from autograder.sandbox.process import Reply
    from autograder.spec import load_spec

    item = load_spec().item("cnn.ThreeLayerConvNet.accuracy")
    sent = {}

    def call(function, payload, timeout):
        sent.update(payload["images"])
        return Reply("ok", {}, "", "", 0.0), {"pred." + k: np.zeros(len(v), np.int64)
                                 for k, v in payload["images"].items()}

    r = np.random.default_rng(0)
    splits = {"val": (r.standard_normal((1000, 3, 4, 4)), np.zeros(1000, np.int64)),
              "heldout": (r.standard_normal((800, 3, 4, 4)), np.zeros(800, np.int64))}
    ctx = SimpleNamespace(reference=SimpleNamespace(call=call))
    result = run_accuracy.trusted_evaluation(ctx, item, b"model", splits)
    assert int(item.extras["agreement_images"]) == 500
    np.testing.assert_array_equal(sent["val"], splits["val"][0][:500])
    np.testing.assert_array_equal(sent["heldout"], splits["heldout"][0])
    assert {k: v.shape for k, v in result.items()} == {"pred.val": (500,), "pred.heldout": (800,)}
