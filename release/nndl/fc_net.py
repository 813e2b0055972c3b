"""Fully connected networks, carried over from the homework this one builds on."""
import numpy as np

from nndl.layer_utils import (affine_bn_relu_backward, affine_bn_relu_forward,
                              affine_relu_backward, affine_relu_forward)
from nndl.layers import (affine_backward, affine_forward, dropout_backward,
                         dropout_forward, softmax_loss)


class TwoLayerNet(object):
    """
    A two-layer fully-connected neural network with ReLU nonlinearity and
    softmax loss: affine - relu - affine - softmax.

    Learnable parameters are stored in self.params: W1 (D, H), b1 (H,),
    W2 (H, C), b2 (C,).
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dims=100, num_classes=10,
                 dropout=0, weight_scale=1e-3, reg=0.0):
        """
        Initialize a new network.

        Inputs:
        - input_dim: An integer giving the size of the input
        - hidden_dims: An integer giving the size of the hidden layer
        - num_classes: An integer giving the number of classes to classify
        - dropout: Scalar between 0 and 1 giving dropout strength (unused;
          kept for the historic signature).
        - weight_scale: Scalar giving the standard deviation for random
          initialization of the weights.
        - reg: Scalar giving L2 regularization strength.
        """
        self.params = {}
        self.reg = reg
        # YOUR CODE HERE:
        #   Initialize W1, b1, W2, b2 (weights from a Gaussian with standard
        #   deviation weight_scale, biases zero).
        raise NotImplementedError('TwoLayerNet.__init__ in nndl/fc_net.py: not implemented yet (YOUR CODE HERE)')

    def loss(self, X, y=None):
        """
        Compute loss and gradient for a minibatch of data.

        Inputs:
        - X: Array of input data of shape (N, d_1, ..., d_k)
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None, then run a test-time forward pass of the model and return:
        - scores: Array of shape (N, C) giving classification scores.

        If y is not None, then run a training-time forward and backward pass
        and return a tuple of:
        - loss: Scalar value giving the loss (with 0.5 * reg * sum(W ** 2))
        - grads: Dictionary with the same keys as self.params.
        """
        scores = None
        # YOUR CODE HERE:
        #   Compute the class scores (affine - relu - affine).
        raise NotImplementedError('TwoLayerNet.loss in nndl/fc_net.py: not implemented yet (YOUR CODE HERE)')
        if y is None:
            return scores

        loss, grads = 0, {}
        # YOUR CODE HERE:
        #   Compute the loss (with L2 regularization) and the gradients.
        raise NotImplementedError('TwoLayerNet.loss in nndl/fc_net.py: not implemented yet (YOUR CODE HERE)')
        return loss, grads


class FullyConnectedNet(object):
    """
    A fully-connected neural network with an arbitrary number of hidden layers,
    ReLU nonlinearities, and a softmax loss function. For a network with L
    layers, the architecture will be

    {affine - [batch norm] - relu - [dropout]} x (L - 1) - affine - softmax

    where batch normalization and dropout are optional, and the {...} block is
    repeated L - 1 times.

    Learnable parameters are stored in self.params: W1..WL, b1..bL and, with
    batchnorm, gamma1..gamma(L-1), beta1..beta(L-1).
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout=0, use_batchnorm=False, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None):
        """
        Initialize a new FullyConnectedNet.

        Inputs:
        - hidden_dims: A list of integers giving the size of each hidden layer.
        - input_dim: An integer giving the size of the input.
        - num_classes: An integer giving the number of classes to classify.
        - dropout: Scalar between 0 and 1 giving the probability of DROPPING a
          unit. If dropout=0 then the network does not use dropout at all.
        - use_batchnorm: Whether or not the network should use batch
          normalization.
        - reg: Scalar giving L2 regularization strength.
        - weight_scale: Scalar giving the standard deviation for random
          initialization of the weights.
        - dtype: A numpy datatype object; all computations will be performed
          using this datatype.
        - seed: If not None, then pass this random seed to the dropout layers.
          This will make the dropout layers deterministic so we can gradient
          check the model.
        """
        self.use_batchnorm = use_batchnorm
        self.use_dropout = dropout > 0
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        # YOUR CODE HERE:
        #   Initialize W1..WL, b1..bL and, with batchnorm, gamma and beta of
        #   every hidden layer (ones and zeros).
        raise NotImplementedError('FullyConnectedNet.__init__ in nndl/fc_net.py: not implemented yet (YOUR CODE HERE)')

        # When using dropout we need to pass a dropout_param dictionary to each
        # dropout layer so that the layer knows the dropout probability and the
        # mode (train / test). You can pass the same dropout_param to each
        # dropout layer.
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {'mode': 'train', 'p': dropout}
            if seed is not None:
                self.dropout_param['seed'] = seed

        # With batch normalization we need to keep track of running means and
        # variances, so we need to pass a special bn_param object to each
        # batch normalization layer.
        self.bn_params = []
        if self.use_batchnorm:
            self.bn_params = [{'mode': 'train',
                               'running_mean': np.zeros(d, dtype=dtype),
                               'running_var': np.ones(d, dtype=dtype)}
                              for d in hidden_dims]

        # Cast all parameters to the correct datatype
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """
        Compute loss and gradient for the fully-connected net.

        Input / output: Same as TwoLayerNet above; X is cast to self.dtype.
        """
        X = X.astype(self.dtype, copy=False)
        mode = 'test' if y is None else 'train'

        # Set train/test mode for batchnorm params and dropout param since they
        # behave differently during training and testing.
        if self.dropout_param:
            self.dropout_param['mode'] = mode
        for bn_param in self.bn_params:
            bn_param['mode'] = mode

        scores = None
        # YOUR CODE HERE:
        #   Implement the forward pass, storing every layer's cache and the
        #   scores in scores. Apply dropout after each relu when self.use_dropout.
        raise NotImplementedError('FullyConnectedNet.loss in nndl/fc_net.py: not implemented yet (YOUR CODE HERE)')

        # If test mode return early
        if mode == 'test':
            return scores

        loss, grads = 0.0, {}
        # YOUR CODE HERE:
        #   Implement the backward pass: the loss with L2 regularization on
        #   every weight matrix, and grads[k] for every self.params[k].
        raise NotImplementedError('FullyConnectedNet.loss in nndl/fc_net.py: not implemented yet (YOUR CODE HERE)')
        return loss, grads
