"""A three-layer convolutional network for image classification."""
import numpy as np

from nndl.conv_layer_utils import (conv_bn_relu_pool_backward, conv_bn_relu_pool_backward_params,
                                   conv_bn_relu_pool_forward, conv_relu_pool_backward,
                                   conv_relu_pool_backward_params, conv_relu_pool_forward)
from nndl.layer_utils import (affine_bn_relu_backward, affine_bn_relu_forward,
                              affine_relu_backward, affine_relu_forward)
from nndl.layers import affine_backward, affine_forward, softmax_loss


class ThreeLayerConvNet(object):
    """
    A three-layer convolutional network with the following architecture:

    conv - [spatial batchnorm] - relu - 2x2 max pool - affine - [batchnorm] -
    relu - affine - softmax

    The network operates on minibatches of data that have shape (N, C, H, W)
    consisting of N images, each with height H and width W and with C input
    channels. The convolution keeps the spatial size ('same' padding of
    (filter_size - 1) // 2 with stride 1, exact for odd filter sizes), and the
    pool halves it, rounding down, so any H and W of at least 2 work.

    Parameters (in self.params):
    - W1: (num_filters, C, filter_size, filter_size), b1: (num_filters,)
    - W2: (num_filters * H_pool * W_pool, hidden_dim), b2: (hidden_dim,)
    - W3: (hidden_dim, num_classes), b3: (num_classes,)
    - with use_batchnorm also gamma1, beta1: (num_filters,) and
      gamma2, beta2: (hidden_dim,)
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32, use_batchnorm=False):
        """
        Initialize a new network.

        Inputs:
        - input_dim: Tuple (C, H, W) giving size of input data
        - num_filters: Number of filters to use in the convolutional layer
        - filter_size: Size of filters to use in the convolutional layer
        - hidden_dim: Number of units to use in the fully-connected hidden layer
        - num_classes: Number of scores to produce from the final affine layer.
        - weight_scale: Scalar giving standard deviation for random
          initialization of weights.
        - reg: Scalar giving L2 regularization strength
        - dtype: numpy datatype to use for computation.
        - use_batchnorm: Whether to use spatial batchnorm after the convolution
          and batchnorm after the hidden affine layer.
        """
        self.use_batchnorm = use_batchnorm
        self.params = {}
        self.reg = reg
        self.dtype = dtype
        self.input_dim = tuple(input_dim)
        self.filter_size = filter_size
        self.bn_params = []

        # ================================================================ #
        # YOUR CODE HERE:
        #   Initialize the weights and biases of a three layer CNN. To
        #   initialize:
        #     - the biases should be initialized to zeros.
        #     - the weights should be initialized to a matrix with entries
        #       drawn from a Gaussian distribution with zero mean and
        #       standard deviation given by weight_scale.
        #   With use_batchnorm, also initialize gamma1, beta1, gamma2, beta2
        #   (ones and zeros) and one bn_param dict per batchnorm layer in
        #   self.bn_params.
        # ================================================================ #
        ### BEGIN SOLUTION
        C, H, W = self.input_dim
        pad = (filter_size - 1) // 2
        conv_h = H + 2 * pad - filter_size + 1
        conv_w = W + 2 * pad - filter_size + 1
        pooled = num_filters * (conv_h // 2) * (conv_w // 2)
        self.params['W1'] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
        self.params['b1'] = np.zeros(num_filters)
        self.params['W2'] = weight_scale * np.random.randn(pooled, hidden_dim)
        self.params['b2'] = np.zeros(hidden_dim)
        self.params['W3'] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params['b3'] = np.zeros(num_classes)
        if use_batchnorm:
            for i, width in ((1, num_filters), (2, hidden_dim)):
                self.params['gamma%d' % i] = np.ones(width)
                self.params['beta%d' % i] = np.zeros(width)
                self.bn_params.append({'mode': 'train',
                                       'running_mean': np.zeros(width, dtype=dtype),
                                       'running_var': np.ones(width, dtype=dtype)})
        ### END SOLUTION
        # ================================================================ #
        # END YOUR CODE HERE
        # ================================================================ #

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """
        Evaluate loss and gradient for the three-layer convolutional network.

        Inputs:
        - X: Array of input data of shape (N, C, H, W); cast to self.dtype.
        - y: Array of labels, of shape (N,). y[i] gives the label for X[i].

        Returns:
        If y is None, then run a test-time forward pass (batchnorm in test
        mode) of the model and return:
        - scores: Array of shape (N, num_classes) giving classification scores.

        If y is not None, then run a training-time forward and backward pass
        and return a tuple of:
        - loss: Scalar value giving the loss, with the L2 penalty
          0.5 * reg * sum(W ** 2) over W1, W2 and W3.
        - grads: Dictionary with the same keys as self.params, mapping
          parameter names to gradients of the loss with respect to those
          parameters.
        """
        X = X.astype(self.dtype, copy=False)
        mode = 'test' if y is None else 'train'
        for bn_param in self.bn_params:
            bn_param['mode'] = mode

        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        W3, b3 = self.params['W3'], self.params['b3']

        # pass conv_param to the forward pass for the convolutional layer
        filter_size = W1.shape[2]
        conv_param = {'stride': 1, 'pad': (filter_size - 1) // 2}

        # pass pool_param to the forward pass for the max-pooling layer
        pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}

        scores = None

        # ================================================================ #
        # YOUR CODE HERE:
        #   Implement the forward pass of the three layer CNN. Store the
        #   output scores as the variable "scores". Use the fast layers
        #   (the sandwich layers in nndl.conv_layer_utils), not the naive ones.
        # ================================================================ #
        ### BEGIN SOLUTION
        if self.use_batchnorm:
            h1, cache1 = conv_bn_relu_pool_forward(
                X, W1, b1, self.params['gamma1'], self.params['beta1'],
                conv_param, self.bn_params[0], pool_param)
            h2, cache2 = affine_bn_relu_forward(
                h1, W2, b2, self.params['gamma2'], self.params['beta2'], self.bn_params[1])
        else:
            h1, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
            h2, cache2 = affine_relu_forward(h1, W2, b2)
        scores, cache3 = affine_forward(h2, W3, b3)
        ### END SOLUTION
        # ================================================================ #
        # END YOUR CODE HERE
        # ================================================================ #

        if y is None:
            return scores

        loss, grads = 0, {}
        # ================================================================ #
        # YOUR CODE HERE:
        #   Implement the backward pass of the three layer CNN. Store the
        #   grads in the grads dictionary, exactly as before (i.e., the
        #   gradient of self.params[k] will be grads[k]). Store the loss as
        #   "loss", and don't forget to add regularization on ALL weight
        #   matrices.
        # ================================================================ #
        ### BEGIN SOLUTION
        data_loss, dscores = softmax_loss(scores, y)
        reg = self.reg
        # vdot: the sum of squares without a temporary copy of each weight matrix.
        loss = data_loss + 0.5 * reg * sum(float(np.vdot(W, W)) for W in (W1, W2, W3))

        dh2, grads['W3'], grads['b3'] = affine_backward(dscores, cache3)
        if self.use_batchnorm:
            dh1, grads['W2'], grads['b2'], grads['gamma2'], grads['beta2'] = \
                affine_bn_relu_backward(dh2, cache2)
            # The images need no gradient: the first layer's backward pass skips dx.
            grads['W1'], grads['b1'], grads['gamma1'], grads['beta1'] = \
                conv_bn_relu_pool_backward_params(dh1, cache1)
        else:
            dh1, grads['W2'], grads['b2'] = affine_relu_backward(dh2, cache2)
            grads['W1'], grads['b1'] = conv_relu_pool_backward_params(dh1, cache1)
        # reg * W added in place, in blocks of rows shared out to threads
        # (cs231n.threads): W2 alone holds 8.2M weights.
        from cs231n.threads import for_slices
        for name, W in (('W1', W1), ('W2', W2), ('W3', W3)):
            grad = grads[name]

            def add_reg(start, stop, grad=grad, W=W, rows=max(1, (1 << 17) // max(1, W[0].size))):
                for row in range(start, stop, rows):
                    block = slice(row, min(row + rows, stop))
                    grad[block] += reg * W[block]

            for_slices(grad.shape[0], grad.nbytes, add_reg)
        ### END SOLUTION
        # ================================================================ #
        # END YOUR CODE HERE
        # ================================================================ #

        return loss, grads
