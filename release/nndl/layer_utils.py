"""Convenience layers that chain the basic layers in nndl.layers.

Each sandwich is a forward/backward pair with the usual (out, cache) and
(dout, cache) conventions; caches are tuples of the inner layers' caches.
"""
from nndl.layers import (affine_backward, affine_forward, batchnorm_backward,
                         batchnorm_forward, dropout_backward, dropout_forward,
                         relu_backward, relu_forward)


def affine_relu_forward(x, w, b):
    """
    Convenience layer that performs an affine transform followed by a ReLU.

    Inputs:
    - x: Input to the affine layer, of shape (N, d_1, ..., d_k)
    - w: Weights of shape (D, M), b: biases of shape (M,)

    Returns a tuple of:
    - out: Output from the ReLU, of shape (N, M)
    - cache: Object to give to the backward pass
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """
    Backward pass for the affine-relu convenience layer.

    Returns dx (N, d_1, ..., d_k), dw (D, M), db (M,).
    """
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    """
    Affine transform, batch normalization, then ReLU.

    Inputs:
    - x: Input of shape (N, d_1, ..., d_k)
    - w: Weights of shape (D, M), b: biases of shape (M,)
    - gamma, beta: Batchnorm scale and shift, of shape (M,)
    - bn_param: Batchnorm parameters (see batchnorm_forward)

    Returns a tuple of:
    - out: Output of shape (N, M)
    - cache: Object to give to the backward pass
    """
    a, fc_cache = affine_forward(x, w, b)
    a_bn, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(a_bn)
    return out, (fc_cache, bn_cache, relu_cache)


def affine_bn_relu_backward(dout, cache):
    """
    Backward pass for the affine-batchnorm-relu convenience layer.

    Returns dx (N, d_1, ..., d_k), dw (D, M), db (M,), dgamma (M,), dbeta (M,).
    """
    fc_cache, bn_cache, relu_cache = cache
    da_bn = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = batchnorm_backward(da_bn, bn_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta


def affine_relu_dropout_forward(x, w, b, dropout_param):
    """
    Affine transform, ReLU, then (inverted) dropout.

    Inputs as affine_relu_forward, plus dropout_param (see dropout_forward).
    Returns out of shape (N, M) and a cache for the backward pass.
    """
    a, ar_cache = affine_relu_forward(x, w, b)
    out, do_cache = dropout_forward(a, dropout_param)
    return out, (ar_cache, do_cache)


def affine_relu_dropout_backward(dout, cache):
    """Backward pass for affine-relu-dropout: returns dx, dw, db."""
    ar_cache, do_cache = cache
    da = dropout_backward(dout, do_cache)
    return affine_relu_backward(da, ar_cache)


def affine_bn_relu_dropout_forward(x, w, b, gamma, beta, bn_param, dropout_param):
    """
    Affine transform, batch normalization, ReLU, then (inverted) dropout.

    Returns out of shape (N, M) and a cache for the backward pass.
    """
    a, abr_cache = affine_bn_relu_forward(x, w, b, gamma, beta, bn_param)
    out, do_cache = dropout_forward(a, dropout_param)
    return out, (abr_cache, do_cache)


def affine_bn_relu_dropout_backward(dout, cache):
    """Backward pass for affine-bn-relu-dropout: dx, dw, db, dgamma, dbeta."""
    abr_cache, do_cache = cache
    da = dropout_backward(dout, do_cache)
    return affine_bn_relu_backward(da, abr_cache)
