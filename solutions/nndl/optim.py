"""First-order update rules for training neural networks.

Each update rule has the interface

    def update(w, dw, config=None):
        return next_w, config

- w: A numpy array giving the current weights.
- dw: A numpy array of the same shape as w giving the gradient of the loss
  with respect to w.
- config: A dictionary of hyperparameters such as the learning rate and
  momentum, and of the state the rule keeps between steps (moment
  estimates). A rule that needs state creates it on its first call.

Returns:
- next_w: The next point after the update.
- config: The config dictionary to be passed to the next iteration of the
  update rule. The caller's dictionary and arrays are not modified.
"""
import numpy as np


def sgd(w, dw, config=None):
    """
    Performs vanilla stochastic gradient descent.

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).
    """
    config = dict(config) if config else {}
    config.setdefault('learning_rate', 1e-2)
    next_w = None
    # YOUR CODE HERE:
    #   Implement the vanilla sgd update and store it in next_w.
    ### BEGIN SOLUTION
    next_w = w - config['learning_rate'] * dw
    ### END SOLUTION
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """
    Performs stochastic gradient descent with momentum.

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).
    - momentum: Scalar between 0 and 1 giving the momentum value (default 0.9).
      Setting momentum = 0 reduces to sgd.
    - velocity: A numpy array of the same shape as w and dw used to store a
      moving average of the gradients (starts at zero).
    """
    config = dict(config) if config else {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    v = config.get('velocity', np.zeros_like(w))
    next_w = None
    # YOUR CODE HERE:
    #   Implement the momentum update; store the new weights in next_w
    #   and the updated velocity in v.
    ### BEGIN SOLUTION
    v = config['momentum'] * v - config['learning_rate'] * dw
    next_w = w + v
    ### END SOLUTION
    config['velocity'] = v
    return next_w, config


def sgd_nesterov_momentum(w, dw, config=None):
    """
    Performs stochastic gradient descent with Nesterov momentum, in the form
    that keeps the parameters at the look-ahead point:

        v_new = momentum * v - learning_rate * dw
        next_w = w - momentum * v + (1 + momentum) * v_new

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).
    - momentum: Scalar between 0 and 1 giving the momentum value (default 0.9).
    - velocity: A numpy array of the same shape as w and dw (starts at zero).
    """
    config = dict(config) if config else {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    v = config.get('velocity', np.zeros_like(w))
    next_w = None
    # YOUR CODE HERE:
    #   Implement the Nesterov momentum update; store the new weights in
    #   next_w and the updated velocity in v.
    ### BEGIN SOLUTION
    mu = config['momentum']
    v_new = mu * v - config['learning_rate'] * dw
    next_w = w - mu * v + (1 + mu) * v_new
    v = v_new
    ### END SOLUTION
    config['velocity'] = v
    return next_w, config


def rmsprop(w, dw, config=None):
    """
    Uses the RMSProp update rule, which uses a moving average of squared
    gradient values to set adaptive per-parameter learning rates.

    config format:
    - learning_rate: Scalar learning rate (default 1e-2).
    - decay_rate: Scalar between 0 and 1 giving the decay rate for the squared
      gradient cache (default 0.99).
    - epsilon: Small scalar used for smoothing to avoid dividing by zero
      (default 1e-8).
    - a: Moving average of second moments of gradients (starts at zero).
    """
    config = dict(config) if config else {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('decay_rate', 0.99)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('a', np.zeros_like(w))
    next_w = None
    # YOUR CODE HERE:
    #   Implement the RMSProp update; store the new weights in next_w and
    #   the updated moving average of squared gradients in config['a'].
    ### BEGIN SOLUTION
    decay = config['decay_rate']
    a = decay * config['a'] + (1 - decay) * (dw * dw)
    next_w = w - config['learning_rate'] * dw / (np.sqrt(a) + config['epsilon'])
    config['a'] = a
    ### END SOLUTION
    return next_w, config


def adam(w, dw, config=None):
    """
    Uses the Adam update rule, which incorporates moving averages of both the
    gradient and its square and a bias correction term.

    config format:
    - learning_rate: Scalar learning rate (default 1e-3).
    - beta1: Decay rate for moving average of first moment of gradient (0.9).
    - beta2: Decay rate for moving average of second moment of gradient (0.999).
    - epsilon: Small scalar used for smoothing to avoid dividing by zero (1e-8).
    - v: Moving average of the gradient (starts at zero).
    - a: Moving average of the squared gradient (starts at zero).
    - t: Iteration number (starts at 0; the first update uses t = 1).
    """
    config = dict(config) if config else {}
    config.setdefault('learning_rate', 1e-3)
    config.setdefault('beta1', 0.9)
    config.setdefault('beta2', 0.999)
    config.setdefault('epsilon', 1e-8)
    # (Not setdefault: its zeros would be made on every call, not only the first.)
    if 'v' not in config:
        config['v'] = np.zeros_like(w)
    if 'a' not in config:
        config['a'] = np.zeros_like(w)
    config.setdefault('t', 0)
    next_w = None
    # YOUR CODE HERE:
    #   Implement the Adam update with bias correction; store the new
    #   weights in next_w and the updated moments and step in config['v'],
    #   config['a'] and config['t'].
    ### BEGIN SOLUTION
    beta1, beta2, eps = config['beta1'], config['beta2'], config['epsilon']
    t = config['t'] + 1
    # next_w = w - learning_rate * v_hat / (sqrt(a_hat) + epsilon), with the
    # moments v = beta1 * v + (1 - beta1) * dw, a = beta2 * a + (1 - beta2) * dw**2
    # and their bias corrections v_hat = v / (1 - beta1**t), a_hat = a / (1 - beta2**t).
    step_scale = config['learning_rate'] / (1 - beta1 ** t)
    a_correction = 1 - beta2 ** t
    w_flat, dw_flat = w.reshape(-1), dw.reshape(-1)
    v_old, a_old = config['v'].reshape(-1), config['a'].reshape(-1)
    next_w, v, a = np.empty_like(w_flat), np.empty_like(v_old), np.empty_like(a_old)
    # A large weight matrix goes through in blocks that fit the CPU cache: each
    # entry is read and written once from memory, and the temporaries stay in
    # cache (whole-array steps: ~20 passes over 33 MB for the 8.2M weights of
    # the reference CNN, about twice the time). The blocks are shared out to
    # threads (cs231n.threads: numpy releases the GIL while it works).
    from cs231n.threads import for_slices
    block = 1 << 17
    # The reference's compiled pass (nndl/_reference_kernels.pyx, built in place
    # for the instructor only) does a block's step in one go with numpy's numbers
    # where the arrays are C-contiguous and of one float dtype, and the
    # hyperparameters Python numbers (numpy rounds those to the arrays' dtype).
    try:
        from nndl._reference_kernels import _adam_update_into as compiled_step
    except ImportError:
        compiled_step = None
    if not (all(array.dtype == w_flat.dtype and array.flags.c_contiguous
                for array in (w_flat, dw_flat, v_old, a_old))
            and w_flat.dtype in (np.float32, np.float64)
            and all(type(h) in (int, float) for h in (config['learning_rate'], beta1, beta2, eps))):
        compiled_step = None

    def update(first, last):
        if compiled_step is not None:
            span = slice(first * block, last * block)
            compiled_step(w_flat[span], dw_flat[span], v_old[span], a_old[span], next_w[span],
                          v[span], a[span], beta1, beta2, a_correction, eps, step_scale)
            return
        for start in range(first * block, min(last * block, w_flat.size), block):
            stop = start + block
            g = dw_flat[start:stop]
            v_block = np.multiply(v_old[start:stop], beta1, out=v[start:stop])
            v_block += (1 - beta1) * g
            a_block = np.multiply(a_old[start:stop], beta2, out=a[start:stop])
            step = g * g
            step *= 1 - beta2
            a_block += step
            np.divide(a_block, a_correction, out=step)
            np.sqrt(step, out=step)
            step += eps
            np.divide(v_block, step, out=step)
            step *= step_scale
            np.subtract(w_flat[start:stop], step, out=next_w[start:stop])

    for_slices(-(-w_flat.size // block), w_flat.nbytes, update)
    next_w = next_w.reshape(w.shape)
    config['v'], config['a'], config['t'] = v.reshape(w.shape), a.reshape(w.shape), t
    ### END SOLUTION
    return next_w, config
