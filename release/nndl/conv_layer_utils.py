"""Convolutional sandwich layers built on the fast layers in cs231n.fast_layers.

Each sandwich is a forward/backward pair with the usual (out, cache) and
(dout, cache) conventions.
"""
from cs231n.fast_layers import (conv_backward_fast, conv_backward_fast_params, conv_forward_fast,
                                max_pool_backward_fast, max_pool_forward_fast)
from nndl.conv_layers import spatial_batchnorm_backward, spatial_batchnorm_forward
from nndl.layers import relu_backward, relu_forward


def conv_relu_forward(x, w, b, conv_param):
    """
    A convenience layer that performs a convolution followed by a ReLU.

    Inputs:
    - x: Input to the convolutional layer, of shape (N, C, H, W)
    - w, b: Weights (F, C, HH, WW) and biases (F,) for the convolutional layer
    - conv_param: {'stride', 'pad'} as in conv_forward_naive

    Returns a tuple of:
    - out: Output from the ReLU, of shape (N, F, H', W')
    - cache: Object to give to the backward pass
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    """
    Backward pass for the conv-relu convenience layer.

    Returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,).
    """
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """
    Convenience layer that performs a convolution, a ReLU, and a pool.

    Inputs:
    - x: Input to the convolutional layer, of shape (N, C, H, W)
    - w, b: Weights (F, C, HH, WW) and biases (F,) for the convolutional layer
    - conv_param: {'stride', 'pad'} for the convolutional layer
    - pool_param: {'pool_height', 'pool_width', 'stride'} for the pooling layer

    Returns a tuple of:
    - out: Output from the pooling layer, of shape (N, F, H'', W'')
    - cache: Object to give to the backward pass
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    """
    Backward pass for the conv-relu-pool convenience layer.

    Returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,).
    """
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache)


def conv_relu_pool_backward_params(dout, cache):
    """
    conv_relu_pool_backward without dx, for a first layer (whose input, the
    images, needs no gradient): see cs231n.fast_layers.conv_backward_fast_params.

    Returns dw (F, C, HH, WW), db (F,).
    """
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast_params(da, conv_cache)


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """
    Convolution, spatial batch normalization, then ReLU.

    Inputs as conv_relu_forward, plus gamma, beta of shape (F,) and bn_param
    (see spatial_batchnorm_forward).

    Returns out of shape (N, F, H', W') and a cache for the backward pass.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    a_bn, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(a_bn)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout, cache):
    """Backward pass for conv-bn-relu: dx, dw, db, dgamma, dbeta."""
    conv_cache, bn_cache, relu_cache = cache
    da_bn = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(da_bn, bn_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db, dgamma, dbeta


def conv_bn_relu_pool_forward(x, w, b, gamma, beta, conv_param, bn_param, pool_param):
    """
    Convolution, spatial batch normalization, ReLU, then max pooling.

    Returns out of shape (N, F, H'', W'') and a cache for the backward pass.
    """
    a, cbr_cache = conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param)
    out, pool_cache = max_pool_forward_fast(a, pool_param)
    return out, (cbr_cache, pool_cache)


def conv_bn_relu_pool_backward(dout, cache):
    """Backward pass for conv-bn-relu-pool: dx, dw, db, dgamma, dbeta."""
    cbr_cache, pool_cache = cache
    da = max_pool_backward_fast(dout, pool_cache)
    return conv_bn_relu_backward(da, cbr_cache)


def conv_bn_relu_pool_backward_params(dout, cache):
    """
    conv_bn_relu_pool_backward without dx, for a first layer (whose input, the
    images, needs no gradient): see cs231n.fast_layers.conv_backward_fast_params.

    Returns dw (F, C, HH, WW), db (F,), dgamma (F,), dbeta (F,).
    """
    (conv_cache, bn_cache, relu_cache), pool_cache = cache
    da = max_pool_backward_fast(dout, pool_cache)
    da_bn = relu_backward(da, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(da_bn, bn_cache)
    dw, db = conv_backward_fast_params(da, conv_cache)
    return dw, db, dgamma, dbeta
