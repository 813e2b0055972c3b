"""Fully connected layers, nonlinearities, normalisation, dropout and losses.

Carried over from the homework this one builds on. Every layer is a pair of
plain functions: `*_forward(...) -> (out, cache)` and
`*_backward(dout, cache) -> gradients`. No function writes into its inputs.
"""
import numpy as np


def affine_forward(x, w, b):
    """
    Computes the forward pass for an affine (fully-connected) layer.

    The input x has shape (N, d_1, ..., d_k) and contains a minibatch of N
    examples, where each example x[i] has shape (d_1, ..., d_k). We will
    reshape each input into a vector of dimension D = d_1 * ... * d_k, and
    then transform it to an output vector of dimension M.

    Inputs:
    - x: A numpy array containing input data, of shape (N, d_1, ..., d_k)
    - w: A numpy array of weights, of shape (D, M)
    - b: A numpy array of biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b)
    """
    out = None
    # ================================================================ #
    # YOUR CODE HERE:
    #   Calculate the output of the forward pass. Notice the dimensions
    #   of w are D x M, which is the transpose of what we did in earlier
    #   assignments.
    # ================================================================ #
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1).dot(w) + b
    ### END SOLUTION
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """
    Computes the backward pass for an affine layer.

    Inputs:
    - dout: Upstream derivative, of shape (N, M)
    - cache: Tuple of:
      - x: Input data, of shape (N, d_1, ... d_k)
      - w: Weights, of shape (D, M)
      - b: Biases, of shape (M,)

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, d1, ..., d_k)
    - dw: Gradient with respect to w, of shape (D, M)
    - db: Gradient with respect to b, of shape (M,)
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    # ================================================================ #
    # YOUR CODE HERE:
    #   Calculate the gradients for the backward pass.
    # ================================================================ #
    ### BEGIN SOLUTION
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = dout.sum(axis=0)
    ### END SOLUTION
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #
    return dx, dw, db


def relu_forward(x):
    """
    Computes the forward pass for a layer of rectified linear units (ReLUs).

    Input:
    - x: Inputs, of any shape

    Returns a tuple of:
    - out: Output, of the same shape as x
    - cache: x
    """
    out = None
    # ================================================================ #
    # YOUR CODE HERE:
    #   Implement the ReLU forward pass.
    # ================================================================ #
    ### BEGIN SOLUTION
    # Slices of a big x go to threads (cs231n.threads; numpy releases the GIL).
    from cs231n.threads import for_slices
    x = np.asarray(x)
    if x.ndim == 0:
        return np.maximum(x, 0), x
    out = np.empty_like(x, dtype=np.result_type(x, 0))  # x's layout and float type
    for_slices(x.shape[0], x.nbytes,
               lambda start, stop: np.maximum(x[start:stop], 0, out=out[start:stop]))
    ### END SOLUTION
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """
    Computes the backward pass for a layer of rectified linear units (ReLUs).

    Input:
    - dout: Upstream derivatives, of any shape
    - cache: Input x, of same shape as dout

    Returns:
    - dx: Gradient with respect to x, of the same shape as dout
    """
    x = cache
    dx = None
    # ================================================================ #
    # YOUR CODE HERE:
    #   Implement the ReLU backward pass. Do not write into dout.
    # ================================================================ #
    ### BEGIN SOLUTION
    # dout * (x > 0): a new array in dout's dtype (4x faster than np.where),
    # in slices on threads for a big dout, as in the forward pass.
    from cs231n.threads import for_slices
    dout, x = np.asarray(dout), np.asarray(x)
    if dout.ndim == 0:
        return dout * (x > 0)
    dx = np.empty_like(dout, dtype=np.result_type(dout, np.bool_))
    for_slices(dout.shape[0], dout.nbytes,
               lambda start, stop: np.multiply(dout[start:stop], x[start:stop] > 0,
                                               out=dx[start:stop]))
    ### END SOLUTION
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """
    Forward pass for batch normalization.

    During training the sample mean and (uncorrected) sample variance are
    computed from minibatch statistics and used to normalize the incoming data.
    During training we also keep an exponentially decaying running mean of the
    mean and variance of each feature, and these averages are used to normalize
    data at test-time. At each timestep we update the running averages using
    momentum:

    running_mean = momentum * running_mean + (1 - momentum) * sample_mean
    running_var = momentum * running_var + (1 - momentum) * sample_var

    The running averages are stored back into bn_param (the only argument a
    layer may change).

    Input:
    - x: Data of shape (N, D)
    - gamma: Scale parameter of shape (D,)
    - beta: Shift parameter of shape (D,)
    - bn_param: Dictionary with the following keys:
      - mode: 'train' or 'test'; required
      - eps: Constant for numeric stability (default 1e-5)
      - momentum: Constant for running mean / variance (default 0.9)
      - running_mean: Array of shape (D,) giving running mean of features
        (default zeros)
      - running_var: Array of shape (D,) giving running variance of features
        (default zeros)

    Returns a tuple of:
    - out: of shape (N, D)
    - cache: A tuple of values needed in the backward pass
    """
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)

    N, D = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == 'train':
        # ================================================================ #
        # YOUR CODE HERE:
        #   A few steps here:
        #     (1) Calculate the running mean and variance of the minibatch.
        #     (2) Normalize the activations with the running mean and variance.
        #     (3) Scale and shift the normalized activations.  Store this
        #         as the variable 'out'
        #     (4) Store any variables you may need for the backward pass in
        #         the 'cache' variable.
        # ================================================================ #
        ### BEGIN SOLUTION
        # Large inputs (spatial batchnorm: 204,800 x 64 for the reference CNN)
        # go through in blocks of rows that fit the CPU cache, so that each
        # entry is read from memory twice (statistics, output) instead of
        # once per step of the formula, and the blocks are shared out to
        # threads (cs231n.threads: numpy releases the GIL while it works).
        # Per-feature vectors are repeated to the block's shape: broadcasting
        # a (D,) vector makes numpy loop row by row, which costs more than the
        # arithmetic when rows are short.
        from cs231n.threads import for_slices
        rows = min(N, max(1, (1 << 17) // max(D, 1)))
        starts = range(0, N, rows)
        # One pass for both statistics: sums of x - shift and of its squares,
        # the shift being the mean of rows spread over the whole input: near
        # the mean, var = E[(x - shift)^2] - E[x - shift]^2 cancels little.
        shift = x[::max(1, N // rows)].mean(axis=0)
        shift_rows = np.tile(shift, (rows, 1))
        # Each block's sums go in their own row, added up in block order
        # (float64): the same numbers however many threads share the blocks.
        block_sums = np.empty((len(starts), 2, D))
        # The reference's compiled passes (nndl/_reference_kernels.pyx, built in
        # place for the instructor only) do each numpy pass below in one go, with
        # numpy's numbers, where x is C-contiguous rows of float32 or float64 (a
        # single column, D = 1, einsum sums in another order: numpy).
        try:
            from nndl import _reference_kernels as kernels
        except ImportError:
            kernels = None
        if not (D > 1 and x.flags.c_contiguous and x.dtype in (np.float32, np.float64)):
            kernels = None

        def statistics(first, last):
            for k in range(first, last):
                block = x[starts[k]:starts[k] + rows]
                if kernels is not None:
                    column_sums = np.empty((2, D), dtype=x.dtype)
                    kernels._shifted_sums_into(block, shift, column_sums[0], column_sums[1])
                    block_sums[k] = column_sums
                    continue
                shifted = block - shift_rows[:block.shape[0]]
                block_sums[k, 0] = np.einsum('ij->j', shifted)
                block_sums[k, 1] = np.einsum('ij,ij->j', shifted, shifted)

        for_slices(len(starts), x.nbytes, statistics)
        sums, squares = block_sums.sum(axis=0)
        dtype = np.result_type(x.dtype, np.float16)  # x's float type
        sample_mean = (shift + sums / N).astype(dtype, copy=False)
        # sum((x - mean)^2) = sum((x - shift)^2) - sum(x - shift)^2 / N
        sample_var = (squares - sums * sums / N) / N
        sample_var = np.maximum(sample_var, 0).astype(dtype, copy=False)
        inv_std = 1.0 / np.sqrt(sample_var + eps)
        # out = gamma * x_hat + beta with x_hat = (x - mean) * inv_std.
        scale_rows = np.tile(gamma * inv_std, (rows, 1))
        beta_rows = np.tile(beta, (rows, 1))
        mean_rows = np.tile(sample_mean, (rows, 1))
        out = np.empty_like(x, dtype=np.result_type(x, scale_rows, beta))
        if not (out.flags.c_contiguous and out.dtype == scale_rows.dtype == beta_rows.dtype
                == mean_rows.dtype == x.dtype):
            kernels = None

        def normalise(first, last):
            for k in range(first, last):
                block = slice(starts[k], starts[k] + rows)
                if kernels is not None:
                    kernels._normalise_into(x[block], mean_rows[0], scale_rows[0], beta_rows[0],
                                            out[block])
                    continue
                n = out[block].shape[0]
                out_block = np.subtract(x[block], mean_rows[:n], out=out[block])
                out_block *= scale_rows[:n]
                out_block += beta_rows[:n]

        for_slices(len(starts), x.nbytes, normalise)
        # x_hat is rebuilt block by block in the backward pass, not stored.
        cache = (x, sample_mean, inv_std, gamma)
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
        ### END SOLUTION
        # ================================================================ #
        # END YOUR CODE HERE
        # ================================================================ #
    elif mode == 'test':
        # ================================================================ #
        # YOUR CODE HERE:
        #   Calculate the testing time normalized activation.  Normalize using
        #   the running mean and variance, and then scale and shift
        #   appropriately. Store the output as 'out'.
        # ================================================================ #
        ### BEGIN SOLUTION
        std = np.sqrt(running_var + eps)
        vectors = (gamma, beta, running_mean, std)
        if x.dtype.kind != 'f' or any(not isinstance(v, np.ndarray) or v.dtype != x.dtype
                                      or v.shape != (D,) for v in vectors):
            out = gamma * ((x - running_mean) / std) + beta
        else:
            # The same operations in the same order (so the same bits) in blocks of
            # rows on threads, as in train mode: the formula on the whole input makes
            # four passes over memory and broadcasts (D,) vectors row by row, which cost
            # the CNN's test-mode pass more than its convolution (spatial batchnorm of
            # 1000 CIFAR images: 1,024,000 rows of 64).
            from cs231n.threads import for_slices
            rows = min(N, max(1, (1 << 17) // max(D, 1)))
            starts = range(0, N, rows)
            gamma_rows, beta_rows, mean_rows, std_rows = (np.tile(v, (rows, 1))
                                                          for v in vectors)
            out = np.empty_like(x)

            def normalise_test(first, last):
                for k in range(first, last):
                    block = slice(starts[k], starts[k] + rows)
                    n = out[block].shape[0]
                    t = np.subtract(x[block], mean_rows[:n], out=out[block])
                    t /= std_rows[:n]
                    np.multiply(gamma_rows[:n], t, out=t)
                    t += beta_rows[:n]

            for_slices(len(starts), x.nbytes, normalise_test)
        ### END SOLUTION
        # ================================================================ #
        # END YOUR CODE HERE
        # ================================================================ #
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    # Store the updated running means back into bn_param
    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    """
    Backward pass for batch normalization.

    Inputs:
    - dout: Upstream derivatives, of shape (N, D)
    - cache: Variable of intermediates from batchnorm_forward.

    Returns a tuple of:
    - dx: Gradient with respect to inputs x, of shape (N, D)
    - dgamma: Gradient with respect to scale parameter gamma, of shape (D,)
    - dbeta: Gradient with respect to shift parameter beta, of shape (D,)
    """
    dx, dgamma, dbeta = None, None, None
    # ================================================================ #
    # YOUR CODE HERE:
    #   Implement the batchnorm backward pass, calculating dx, dgamma, and dbeta.
    # ================================================================ #
    ### BEGIN SOLUTION
    x, sample_mean, inv_std, gamma = cache
    N, D = dout.shape
    # In blocks of rows that fit the CPU cache, shared out to threads, with
    # per-feature vectors repeated to the block's shape, as in the forward pass.
    from cs231n.threads import for_slices
    rows = min(N, max(1, (1 << 17) // max(D, 1)))
    starts = range(0, N, rows)
    mean_rows = np.tile(sample_mean, (rows, 1))
    block_sums = np.empty((len(starts), 2, D))  # per block, added up in block order
    # The reference's compiled passes where dout and x are C-contiguous rows of
    # one float dtype, as in the forward pass.
    try:
        from nndl import _reference_kernels as kernels
    except ImportError:
        kernels = None
    if not (D > 1 and dout.flags.c_contiguous and x.flags.c_contiguous
            and dout.dtype == x.dtype == mean_rows.dtype and x.dtype in (np.float32, np.float64)):
        kernels = None

    def sums(first, last):
        for k in range(first, last):
            block = slice(starts[k], starts[k] + rows)
            if kernels is not None:
                column_sums = np.empty((2, D), dtype=x.dtype)
                kernels._gradient_sums_into(dout[block], x[block], mean_rows[0],
                                            column_sums[0], column_sums[1])
                block_sums[k] = column_sums
                continue
            centred = x[block] - mean_rows[:x[block].shape[0]]
            block_sums[k, 0] = np.einsum('ij->j', dout[block])
            block_sums[k, 1] = np.einsum('ij,ij->j', dout[block], centred)

    for_slices(len(starts), dout.nbytes, sums)
    dbeta, dgamma = block_sums.sum(axis=0)
    dtype = np.result_type(dout, inv_std)
    dgamma = (dgamma * inv_std).astype(dtype, copy=False)  # sum(dout * x_hat)
    dbeta = dbeta.astype(dtype, copy=False)
    # d(loss)/d(x_hat) projected off the directions that the mean and
    # variance normalisation remove:
    #   dx = gamma * inv_std * (dout - dbeta / N - x_hat * dgamma / N)
    # with x_hat = (x - mean) * inv_std.
    scale_rows = np.tile(gamma * inv_std, (rows, 1))
    mean_dout_rows = np.tile(dbeta / N, (rows, 1))
    centred_factor_rows = np.tile(inv_std * dgamma / N, (rows, 1))
    dx = np.empty_like(dout, dtype=dtype)
    if not (dx.flags.c_contiguous and dx.dtype == scale_rows.dtype == mean_dout_rows.dtype
            == centred_factor_rows.dtype == x.dtype):
        kernels = None

    def gradient(first, last):
        for k in range(first, last):
            block = slice(starts[k], starts[k] + rows)
            if kernels is not None:
                kernels._batchnorm_dx_into(dout[block], x[block], mean_rows[0],
                                           centred_factor_rows[0], mean_dout_rows[0],
                                           scale_rows[0], dx[block])
                continue
            n = dx[block].shape[0]
            dx_block = np.subtract(x[block], mean_rows[:n], out=dx[block])
            dx_block *= centred_factor_rows[:n]
            np.subtract(dout[block], dx_block, out=dx_block)
            dx_block -= mean_dout_rows[:n]
            dx_block *= scale_rows[:n]

    for_slices(len(starts), dout.nbytes, gradient)
    ### END SOLUTION
    # ================================================================ #
    # END YOUR CODE HERE
    # ================================================================ #
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """
    Performs the forward pass for (inverted) dropout.

    Inputs:
    - x: Input data, of any shape
    - dropout_param: A dictionary with the following keys:
      - p: Dropout parameter. We drop each neuron output with probability p.
      - mode: 'test' or 'train'. If the mode is train, then perform dropout;
        if the mode is test, then just return the input.
      - seed: Seed for the random number generator. Passing seed makes this
        function deterministic, which is needed for gradient checking but not
        in real networks.

    Outputs:
    - out: Array of the same shape as x.
    - cache: A tuple (dropout_param, mask). In training mode, mask is the
      dropout mask (already scaled by 1 / (1 - p)) that was used to multiply
      the input; in test mode, mask is None.
    """
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])

    mask = None
    out = None

    if mode == 'train':
        # ================================================================ #
        # YOUR CODE HERE:
        #   Implement the inverted dropout forward pass during training time.
        #   Store the masked and scaled activations in out, and store the
        #   dropout mask as the variable mask.
        # ================================================================ #
        ### BEGIN SOLUTION
        keep = np.random.rand(*x.shape) >= p
        scale = 0.0 if p >= 1 else 1.0 / (1 - p)
        mask = (keep * scale).astype(x.dtype, copy=False)
        out = x * mask
        ### END SOLUTION
        # ================================================================ #
        # END YOUR CODE HERE
        # ================================================================ #
    elif mode == 'test':
        # ================================================================ #
        # YOUR CODE HERE:
        #   Implement the inverted dropout forward pass during test time.
        # ================================================================ #
        ### BEGIN SOLUTION
        out = x.copy()
        ### END SOLUTION
        # ================================================================ #
        # END YOUR CODE HERE
        # ================================================================ #
    else:
        raise ValueError('Invalid forward dropout mode "%s"' % mode)

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)

    return out, cache


def dropout_backward(dout, cache):
    """
    Perform the backward pass for (inverted) dropout.

    Inputs:
    - dout: Upstream derivatives, of any shape
    - cache: (dropout_param, mask) from dropout_forward.

    Returns:
    - dx: Gradient with respect to x, of the same shape as dout
    """
    dropout_param, mask = cache
    mode = dropout_param['mode']

    dx = None
    if mode == 'train':
        # ================================================================ #
        # YOUR CODE HERE:
        #   Implement the inverted dropout backward pass during training time.
        # ================================================================ #
        ### BEGIN SOLUTION
        dx = dout * mask
        ### END SOLUTION
        # ================================================================ #
        # END YOUR CODE HERE
        # ================================================================ #
    elif mode == 'test':
        # ================================================================ #
        # YOUR CODE HERE:
        #   Implement the inverted dropout backward pass during test time.
        # ================================================================ #
        ### BEGIN SOLUTION
        dx = dout.copy()
        ### END SOLUTION
        # ================================================================ #
        # END YOUR CODE HERE
        # ================================================================ #
    return dx


def svm_loss(x, y):
    """
    Computes the loss and gradient using for multiclass SVM classification.

    Inputs:
    - x: Input data, of shape (N, C) where x[i, j] is the score for the jth
      class for the ith input.
    - y: Vector of labels, of shape (N,) where y[i] is the label for x[i] and
      0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss
    - dx: Gradient of the loss with respect to x
    """
    loss, dx = None, None
    # YOUR CODE HERE:
    #   Compute the multiclass SVM loss (margin 1) and its gradient.
    ### BEGIN SOLUTION
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    positive[rows, y] -= positive.sum(axis=1)
    dx = positive / N
    ### END SOLUTION
    return loss, dx


def softmax_loss(x, y):
    """
    Computes the loss and gradient for softmax classification.

    Inputs:
    - x: Input data, of shape (N, C) where x[i, j] is the score for the jth
      class for the ith input.
    - y: Vector of labels, of shape (N,) where y[i] is the label for x[i] and
      0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss
    - dx: Gradient of the loss with respect to x
    """
    loss, dx = None, None
    # YOUR CODE HERE:
    #   Compute the softmax loss and its gradient, numerically stable
    #   (shift the scores; no epsilon inside the log).
    ### BEGIN SOLUTION
    N = x.shape[0]
    rows = np.arange(N)
    # Shift by the row maximum so exp never overflows; log-sum-exp keeps the
    # log probabilities exact without any epsilon.
    shifted = x - x.max(axis=1, keepdims=True)
    exp_shifted = np.exp(shifted)
    sum_exp = exp_shifted.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(sum_exp)
    loss = -log_probs[rows, y].sum() / N
    dx = exp_shifted / sum_exp
    dx[rows, y] -= 1
    dx /= N
    ### END SOLUTION
    return loss, dx
