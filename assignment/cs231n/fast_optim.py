"""A fast Adam step for update rules (nndl.optim.adam may call it).

    next_w, v, a = adam_step(w, dw, v, a, t, learning_rate, beta1, beta2, epsilon)

Adam reads w, dw and both moments and writes the new weights and moments: for
the 8.2M weights of the reference CNN's hidden layer that is 230 MB of memory
traffic a step at best. numpy needs a pass per operation (about a dozen), so
the compiled kernel (cs231n/im2col_cython.pyx) does the step in one pass; where
it is not built (or for other dtypes), numpy does it in cache-sized blocks.
Either way the blocks are shared out to threads (cs231n.threads). Nothing is
written into the arguments.
"""
import numpy as np

from cs231n.threads import for_slices

try:
    from cs231n.im2col_cython import _adam_update_into as _compiled_adam
except ImportError:  # not built, or a build from before this kernel: numpy below
    _compiled_adam = None

BLOCK = 1 << 17  # entries per block: a few temporaries of it stay in the CPU cache
_COMPILED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def adam_step(w, dw, v, a, t, learning_rate, beta1, beta2, epsilon):
    """
    One Adam update with bias correction, in w's dtype.

    Inputs:
    - w: weights, any shape; dw: their gradient (cast to w's dtype if it differs)
    - v, a: the moving averages of the gradient and of its square, w's shape
    - t: the step number of this update (the first update is t = 1)
    - learning_rate, beta1, beta2, epsilon: Adam's hyperparameters

    Returns a tuple of new arrays of w's shape and dtype:
    - next_w = w - learning_rate * v_hat / (sqrt(a_hat) + epsilon)
    - v = beta1 * v + (1 - beta1) * dw, a = beta2 * a + (1 - beta2) * dw**2
    with v_hat = v / (1 - beta1**t) and a_hat = a / (1 - beta2**t).
    """
    w = np.asarray(w)
    dtype = w.dtype if np.issubdtype(w.dtype, np.floating) else np.dtype(np.float64)
    flat = [np.ascontiguousarray(array, dtype=dtype).reshape(-1) for array in (w, dw, v, a)]
    w_flat, dw_flat, v_old, a_old = flat
    if any(array.size != w_flat.size for array in flat):
        raise ValueError("w, dw, v and a must have the same size, got %s"
                         % [np.shape(array) for array in (w, dw, v, a)])
    step_scale = learning_rate / (1 - beta1 ** t)
    a_correction = 1 - beta2 ** t
    next_w, v_new, a_new = (np.empty_like(w_flat) for _ in range(3))
    if _compiled_adam is not None and dtype in _COMPILED_DTYPES:
        def update(first, last):
            block = slice(first * BLOCK, last * BLOCK)
            _compiled_adam(w_flat[block], dw_flat[block], v_old[block], a_old[block],
                           next_w[block], v_new[block], a_new[block],
                           beta1, beta2, a_correction, epsilon, step_scale)
    else:
        def update(first, last):
            for start in range(first * BLOCK, min(last * BLOCK, w_flat.size), BLOCK):
                stop = start + BLOCK
                g = dw_flat[start:stop]
                v_block = np.multiply(v_old[start:stop], beta1, out=v_new[start:stop])
                v_block += (1 - beta1) * g
                a_block = np.multiply(a_old[start:stop], beta2, out=a_new[start:stop])
                step = g * g
                step *= 1 - beta2
                a_block += step
                np.divide(a_block, a_correction, out=step)
                np.sqrt(step, out=step)
                step += epsilon
                np.divide(v_block, step, out=step)
                step *= step_scale
                np.subtract(w_flat[start:stop], step, out=next_w[start:stop])

    for_slices(-(-w_flat.size // BLOCK), w_flat.nbytes, update)
    shape = np.shape(w)
    return next_w.reshape(shape), v_new.reshape(shape), a_new.reshape(shape)
