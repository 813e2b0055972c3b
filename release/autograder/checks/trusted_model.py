"""Trusted evaluation of submitted weights: the reference ThreeLayerConvNet, rebuilt from the
parameters of a submitted model file, predicts the classes of images the student's code
never sees (the accuracy item's held-out images).

Runs in the reference's worker (predictions()), never in the grader's process: the file is
untrusted. It is read with allow_pickle=False after the sizes its zip directory declares
are checked, and its parameters are accepted only when they are exactly the reference's
(names and shapes for some num_filters, filter_size and hidden_dim, and both batchnorm
layers' running statistics when it has gamma/beta). The constructor arguments saved in the
file are not used: the rebuild depends on the shapes and the float dtype alone, so a
student's own __init__ arguments (extra ones, bn_params stored any way model_io reads)
do not matter.
"""
import io

import numpy as np

from cs231n.model_io import BN_PREFIX, PARAM_PREFIX, RUNNING_STATS, VERSION_KEY, FORMAT_VERSION

MAX_UNPACKED_BYTES = 1 << 30   # the arrays a file may declare in all
MAX_ENTRIES = 64               # the reference's file has 16 at most
MAX_FILTER_SIZE = 15
BATCH = 500
BATCH_BYTES = 256 << 20        # working memory of one batch (im2col columns, activations)
BASE = ("W1", "b1", "W2", "b2", "W3", "b3")
BATCHNORM = ("gamma1", "beta1", "gamma2", "beta2")


class NotReferenceShaped(ValueError):
    """The file's model is not one the reference ThreeLayerConvNet can rebuild."""


def predictions(nndl, model, images):
    """
    The reference ThreeLayerConvNet's predictions with a submitted file's weights.

    Inputs:
    - nndl: the worker's nndl modules (the reference's, in the reference worker)
    - model: uint8 array (M,), the bytes of a cs231n.model_io file
    - images: {split name: float array (N, C, H, W)}
    Returns {"pred.<split>": int64 array (N,)} for every split, or {"problem": str} saying
    why the reference cannot evaluate the file (never raises).
    """
    try:
        params, bn_stats = read_model(np.asarray(model, dtype=np.uint8).tobytes())
        shape = np.shape(next(iter(images.values())))[1:] if images else (3, 32, 32)
        net = rebuild(nndl["cnn"].ThreeLayerConvNet, params, bn_stats, tuple(shape))
        out = {}
        for split, X in images.items():
            out["pred." + split] = predict(net, np.asarray(X), params["W1"].shape)
        return out
    except NotReferenceShaped as problem:
        return {"problem": str(problem)}
    except MemoryError:
        return {"problem": "the reference ran out of memory evaluating the model"}
    except Exception as error:  # a damaged file: any reader error is about the submission
        return {"problem": "the reference cannot read the model file (%s: %s)"
                % (type(error).__name__, str(error)[:300])}


def read_model(data):
    """({parameter name: array}, {'<layer>:<stat>': array}) of a model file's bytes."""
    with np.load(io.BytesIO(data), allow_pickle=False) as saved:
        entries = saved.zip.infolist()
        if len(entries) > MAX_ENTRIES:
            raise NotReferenceShaped("the model file has %d entries" % len(entries))
        declared = sum(entry.file_size for entry in entries)
        if declared > MAX_UNPACKED_BYTES:
            raise NotReferenceShaped("the model file unpacks to %d MB, over the %d MB the "
                                     "reference reads" % (declared >> 20, MAX_UNPACKED_BYTES >> 20))
        if VERSION_KEY not in saved.files or int(saved[VERSION_KEY]) != FORMAT_VERSION:
            raise NotReferenceShaped("the model file was not written by cs231n.model_io.save_model")
        params = {key[len(PARAM_PREFIX):]: saved[key] for key in saved.files
                  if key.startswith(PARAM_PREFIX)}
        bn_stats = {key[len(BN_PREFIX):]: saved[key] for key in saved.files
                    if key.startswith(BN_PREFIX)}
    return params, bn_stats


def reference_shapes(channels, height, width, num_filters, filter_size, hidden_dim, num_classes,
                     batchnorm):
    """{parameter name: shape} of the reference ThreeLayerConvNet ('same' padding of
    (filter_size - 1) // 2, stride 1, then a 2x2 pool)."""
    pad = (filter_size - 1) // 2
    conv_h, conv_w = height + 2 * pad - filter_size + 1, width + 2 * pad - filter_size + 1
    shapes = {"W1": (num_filters, channels, filter_size, filter_size), "b1": (num_filters,),
              "W2": (num_filters * (conv_h // 2) * (conv_w // 2), hidden_dim), "b2": (hidden_dim,),
              "W3": (hidden_dim, num_classes), "b3": (num_classes,)}
    if batchnorm:
        shapes.update(gamma1=(num_filters,), beta1=(num_filters,), gamma2=(hidden_dim,),
                      beta2=(hidden_dim,))
    return shapes


def fit(params, bn_stats, input_shape):
    """
    The reference's constructor arguments for the file's parameters and its running statistics
    in the reference's layer order: (kwargs, [{'running_mean', 'running_var'}, ...]).
    Raises NotReferenceShaped naming the first difference.
    """
    names = set(params)
    batchnorm = "gamma1" in names
    wanted = set(BASE) | (set(BATCHNORM) if batchnorm else set())
    if names != wanted:
        extra, missing = sorted(names - wanted), sorted(wanted - names)
        raise NotReferenceShaped("its parameters are not the reference's (%s)" % "; ".join(
            part for part in ("extra: " + ", ".join(extra) if extra else "",
                              "missing: " + ", ".join(missing) if missing else "") if part))
    for name, value in params.items():
        if value.dtype.kind not in "fiu":
            raise NotReferenceShaped("%s holds %s values" % (name, value.dtype))
    W1, W2, W3 = params["W1"], params["W2"], params["W3"]
    channels, height, width = input_shape
    if W1.ndim != 4 or W1.shape[2] != W1.shape[3] or not 1 <= W1.shape[2] <= MAX_FILTER_SIZE \
            or W2.ndim != 2 or W3.ndim != 2:
        raise NotReferenceShaped("W1 %s, W2 %s, W3 %s are not the reference's kinds of weights"
                                 % (W1.shape, W2.shape, W3.shape))
    kwargs = dict(input_dim=(channels, height, width), num_filters=int(W1.shape[0]),
                  filter_size=int(W1.shape[2]), hidden_dim=int(W2.shape[1]),
                  num_classes=int(W3.shape[1]), use_batchnorm=batchnorm,
                  dtype=np.float64 if W1.dtype == np.float64 else np.float32)
    shapes = reference_shapes(channels, height, width, kwargs["num_filters"],
                              kwargs["filter_size"], kwargs["hidden_dim"], kwargs["num_classes"],
                              batchnorm)
    for name in sorted(shapes):
        if params[name].shape != shapes[name]:
            raise NotReferenceShaped("%s has shape %s; the reference ThreeLayerConvNet with these "
                                     "sizes has %s" % (name, params[name].shape, shapes[name]))
    layers = _running_stats(bn_stats, kwargs["num_filters"], kwargs["hidden_dim"]) \
        if batchnorm else []
    if not batchnorm and bn_stats:
        raise NotReferenceShaped("it has batchnorm statistics but no gamma/beta")
    return kwargs, layers


def _running_stats(bn_stats, num_filters, hidden_dim):
    """Both layers' statistics, the spatial one (num_filters,) first, whatever order the student's
    bn_params were saved in."""
    saved = {}
    for key, value in bn_stats.items():
        layer, _, stat = key.partition(":")
        if stat not in RUNNING_STATS or not layer.isdigit():
            raise NotReferenceShaped("unexpected batchnorm entry %r" % key)
        saved.setdefault(int(layer), {})[stat] = value
    complete = [saved[i] for i in sorted(saved) if set(saved[i]) == set(RUNNING_STATS)]
    if len(saved) != 2 or len(complete) != 2:
        raise NotReferenceShaped("the file holds the running mean and variance of %d batchnorm "
                                 "layers, not of both (the model's test-mode forward pass needs "
                                 "them)" % len(complete))
    widths = [(num_filters,), (hidden_dim,)]
    if [layer["running_mean"].shape for layer in complete] != widths:
        complete = complete[::-1]
    for layer, width in zip(complete, widths):
        if layer["running_mean"].shape != width or layer["running_var"].shape != width:
            raise NotReferenceShaped("batchnorm statistics of shapes %s, %s; the reference needs %s"
                                     % (layer["running_mean"].shape, layer["running_var"].shape,
                                        width))
    return complete


def rebuild(model_class, params, bn_stats, input_shape):
    """The reference model holding the file's parameters (construction leaves the global
    random state as it was)."""
    kwargs, layers = fit(params, bn_stats, input_shape)
    net = _constructed(model_class, kwargs)
    dtype = kwargs["dtype"]
    for name, value in params.items():
        net.params[name] = value.astype(dtype)
    for bn_param, stats in zip(net.bn_params, layers):
        for stat in RUNNING_STATS:
            bn_param[stat] = stats[stat].astype(dtype)
    return net


_NETS = {}   # (model class, constructor arguments) -> the reference model last built with them


def _constructed(model_class, kwargs):
    """The reference model for these constructor arguments, built once per worker: its
    random initial weights (8M normal draws at the reference's size) are all replaced by
    rebuild(), since fit() accepts exactly the parameters and batchnorm layers the arguments
    give, so the reference worker, which serves submission after submission, reuses it.
    Construction leaves the global random state as it was."""
    key = (model_class, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
    net = _NETS.get(key)
    if net is None:
        state = np.random.get_state()
        try:
            net = model_class(**kwargs)
        finally:
            np.random.set_state(state)
        _NETS.clear()   # one model's worth of memory at most
        _NETS[key] = net
    return net


def predict(net, X, w1_shape):
    """Argmax of the test-mode scores, in batches sized to BATCH_BYTES of working memory."""
    num_filters, channels, size, _ = w1_shape
    itemsize = np.dtype(net.dtype).itemsize
    per_image = itemsize * int(np.prod(X.shape[2:])) * (channels * size * size + 4 * num_filters)
    batch = int(max(1, min(BATCH, BATCH_BYTES // max(per_image, 1))))
    out = [np.argmax(net.loss(X[start:start + batch]), axis=1) for start in range(0, len(X), batch)]
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, dtype=np.int64)
