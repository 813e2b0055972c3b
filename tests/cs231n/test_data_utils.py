import pickle
import tracemalloc

import numpy as np
import pytest

from cs231n import data_utils
from cs231n.data_utils import CIFAR10NotFoundError, get_CIFAR10_data, load_CIFAR10

from .fake_cifar import ALL_NAMES, TRAIN_NAMES, rows_to_images, write_fake_cifar10

# Deliberately uneven sizes: nothing may assume 10000 images per batch.
ODD_SIZES = {"data_batch_1": 7, "data_batch_2": 3, "data_batch_3": 5, "data_batch_4": 1,
             "data_batch_5": 4, "test_batch": 6}


@pytest.fixture
def fake_dir(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    return folder, write_fake_cifar10(folder, ODD_SIZES)


@pytest.fixture
def no_default_data(tmp_path, monkeypatch):
    """No CIFAR10_DIR and an empty default location, whatever the machine holds."""
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    default = tmp_path / "default" / "cifar-10-batches-py"
    monkeypatch.setattr(data_utils, "DEFAULT_CIFAR10_DIR", default)
    return default


def expected_split(written, names):
    data = np.concatenate([written[name][0] for name in names])
    labels = np.concatenate([written[name][1] for name in names])
    return rows_to_images(data), labels


def test_load_CIFAR10_reads_every_batch_in_order_whatever_its_size(fake_dir):
    folder, written = fake_dir
    Xtr, Ytr, Xte, Yte = load_CIFAR10(folder)

    expected_Xtr, expected_Ytr = expected_split(written, TRAIN_NAMES)
    expected_Xte, expected_Yte = expected_split(written, ["test_batch"])
    assert Xtr.shape == (20, 32, 32, 3) and Xte.shape == (6, 32, 32, 3)
    assert Xtr.dtype == np.float32 and Xte.dtype == np.float32
    np.testing.assert_array_equal(Xtr, expected_Xtr)
    np.testing.assert_array_equal(Xte, expected_Xte)
    np.testing.assert_array_equal(Ytr, expected_Ytr)
    np.testing.assert_array_equal(Yte, expected_Yte)
    assert Ytr.dtype == np.int64


def test_load_CIFAR10_accepts_pickles_with_bytes_keys(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    written = write_fake_cifar10(folder, ODD_SIZES, bytes_keys=True)
    Xtr, Ytr, _, _ = load_CIFAR10(folder)
    expected_Xtr, expected_Ytr = expected_split(written, TRAIN_NAMES)
    np.testing.assert_array_equal(Xtr, expected_Xtr)
    np.testing.assert_array_equal(Ytr, expected_Ytr)


def test_load_CIFAR10_rejects_rows_that_are_not_3072_uint8_values(fake_dir):
    folder, _ = fake_dir
    with open(folder / "data_batch_2", "wb") as f:
        pickle.dump({"data": np.zeros((3, 100), np.uint8), "labels": [0, 1, 2]}, f, protocol=2)
    with pytest.raises(ValueError, match="data_batch_2"):
        load_CIFAR10(folder)


def test_load_CIFAR10_names_a_root_that_lacks_the_files(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_fake_cifar10(folder, {name: 2 for name in TRAIN_NAMES})  # no test_batch
    with pytest.raises(CIFAR10NotFoundError) as error:
        load_CIFAR10(folder)
    assert str(folder) in str(error.value)
    assert "test_batch" in str(error.value)


def test_get_CIFAR10_data_splits_channels_first_and_subtracts_the_train_mean(fake_dir, no_default_data):
    folder, written = fake_dir
    data = get_CIFAR10_data(num_training=9, num_validation=8, num_test=4, cifar10_dir=folder)

    images, labels = expected_split(written, TRAIN_NAMES)
    test_images, test_labels = expected_split(written, ["test_batch"])
    images = images.transpose(0, 3, 1, 2)
    test_images = test_images.transpose(0, 3, 1, 2)
    mean_image = images[:9].mean(axis=0)

    expected = {
        "X_train": images[:9] - mean_image, "y_train": labels[:9],
        "X_val": images[9:17] - mean_image, "y_val": labels[9:17],
        "X_test": test_images[:4] - mean_image, "y_test": test_labels[:4],
    }
    assert sorted(data) == sorted(expected)
    for key, value in expected.items():
        assert data[key].shape == value.shape, key
        np.testing.assert_allclose(data[key], value, rtol=0, atol=1e-4, err_msg=key)
    for key in ("X_train", "X_val", "X_test"):
        assert data[key].dtype == np.float32
        assert data[key].flags["C_CONTIGUOUS"]


def test_get_CIFAR10_data_keeps_raw_pixels_without_mean_subtraction(fake_dir, no_default_data):
    folder, written = fake_dir
    data = get_CIFAR10_data(num_training=3, num_validation=2, num_test=6, subtract_mean=False,
                            cifar10_dir=folder)
    images, _ = expected_split(written, TRAIN_NAMES)
    test_images, _ = expected_split(written, ["test_batch"])
    np.testing.assert_array_equal(data["X_train"], images[:3].transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(data["X_val"], images[3:5].transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(data["X_test"], test_images.transpose(0, 3, 1, 2))


def test_get_CIFAR10_data_refuses_more_images_than_the_batches_hold(fake_dir, no_default_data):
    folder, _ = fake_dir
    with pytest.raises(ValueError, match="21"):
        get_CIFAR10_data(num_training=20, num_validation=1, num_test=1, cifar10_dir=folder)


def test_missing_data_raises_one_error_naming_every_path_tried(tmp_path, monkeypatch, no_default_data):
    from_argument = tmp_path / "argument"
    from_env = tmp_path / "environment"
    monkeypatch.setenv("CIFAR10_DIR", str(from_env))

    with pytest.raises(CIFAR10NotFoundError) as error:
        get_CIFAR10_data(cifar10_dir=from_argument)

    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    for folder in (from_argument, from_env, no_default_data):
        assert str(folder) in message
    assert "get_datasets.sh" in message


def constant_dataset(folder, value):
    """A fake data set whose training pixels all equal `value`."""
    for name in ALL_NAMES:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / name, "wb") as f:
            pickle.dump({"data": np.full((2, 3072), value, np.uint8), "labels": [0, 1]}, f, protocol=2)
    return folder


def first_pixel(**kwargs):
    data = get_CIFAR10_data(num_training=2, num_validation=1, num_test=1, subtract_mean=False, **kwargs)
    return data["X_train"][0, 0, 0, 0]


def test_data_folder_comes_from_argument_then_environment_then_default(tmp_path, monkeypatch):
    from_argument = constant_dataset(tmp_path / "argument", 1)
    from_env = constant_dataset(tmp_path / "environment", 2)
    default = constant_dataset(tmp_path / "default", 3)
    monkeypatch.setattr(data_utils, "DEFAULT_CIFAR10_DIR", default)
    monkeypatch.setenv("CIFAR10_DIR", str(from_env))

    assert first_pixel(cifar10_dir=from_argument) == 1
    assert first_pixel() == 2
    assert first_pixel(cifar10_dir=tmp_path / "missing") == 2
    monkeypatch.delenv("CIFAR10_DIR")
    assert first_pixel() == 3


def test_loading_makes_no_float64_or_second_float32_copy(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_fake_cifar10(folder, {**{name: 1000 for name in TRAIN_NAMES}, "test_batch": 500})
    output_bytes = 5500 * 3072 * 4

    tracemalloc.start()
    try:
        result = load_CIFAR10(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert sum(array.nbytes for array in result) >= output_bytes
    # float32 result + the uint8 staging (1/4 of it) + one batch being unpickled;
    # a float64 copy of the training images alone would add 2x.
    assert peak < 1.45 * output_bytes


def test_get_CIFAR10_data_peak_memory_stays_near_its_output(tmp_path, no_default_data):
    folder = tmp_path / "cifar-10-batches-py"
    write_fake_cifar10(folder, {**{name: 1000 for name in TRAIN_NAMES}, "test_batch": 500})
    output_bytes = (4500 + 500 + 500) * 3072 * 4

    tracemalloc.start()
    try:
        data = get_CIFAR10_data(num_training=4500, num_validation=500, num_test=500, cifar10_dir=folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert data["X_train"].shape == (4500, 3, 32, 32)
    assert peak < 1.45 * output_bytes


def test_real_cifar10_loads_with_the_documented_shapes(cifar10_dir):
    Xtr, Ytr, Xte, Yte = load_CIFAR10(cifar10_dir)
    assert Xtr.shape == (50000, 32, 32, 3) and Xtr.dtype == np.float32
    assert Xte.shape[1:] == (32, 32, 3) and Xte.shape[0] == Yte.shape[0] > 0
    np.testing.assert_array_equal(np.bincount(Ytr, minlength=10), np.full(10, 5000))
    assert Yte.min() >= 0 and Yte.max() <= 9
    assert Xtr.min() >= 0 and Xtr.max() <= 255

    with open(cifar10_dir / "data_batch_5", "rb") as f:
        last_batch = pickle.load(f, encoding="latin1")
    np.testing.assert_array_equal(Xtr[-3:], rows_to_images(last_batch["data"][-3:]))

    data = get_CIFAR10_data(cifar10_dir=cifar10_dir)
    assert data["X_train"].shape == (49000, 3, 32, 32)
    assert data["X_val"].shape == (1000, 3, 32, 32)
    assert data["X_test"].shape == (1000, 3, 32, 32)
    mean_image = Xtr[:49000].mean(axis=0, dtype=np.float64).transpose(2, 0, 1)
    np.testing.assert_allclose(data["X_val"], Xtr[49000:].transpose(0, 3, 1, 2) - mean_image,
                               rtol=0, atol=1e-3)
    np.testing.assert_array_equal(data["y_val"], Ytr[49000:])
    np.testing.assert_allclose(data["X_test"], Xte[:1000].transpose(0, 3, 1, 2) - mean_image,
                               rtol=0, atol=1e-3)
