"""Source text of graded functions written the way students write them.

Each constant holds one or two top-level definitions (or a helper plus the
definitions that use it) that replace the reference's definitions of the same
names in one nndl module (tests/fairness/build.py). They are correct
implementations in other styles; the planted bugs of variants.py are single
edits of them (variants.edit), so every bug sits in code a student could write.
Written for this suite from the docstrings' contracts, not from any public copy.
"""

# ---- convolution ---------------------------------------------------------------------------

# The classic course template: float64 np.zeros allocations, a loop over every output index.
CONV_FORWARD_CLASSIC = '''
def conv_forward_naive(x, w, b, conv_param):
    out = None
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant')
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    h0 = i * stride
                    w0 = j * stride
                    window = x_pad[n, :, h0:h0 + HH, w0:w0 + WW]
                    out[n, f, i, j] = np.sum(window * w[f, :, :, :]) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache
'''

CONV_BACKWARD_CLASSIC = '''
def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    x, w, b, conv_param = cache
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant')
    dx_pad = np.zeros(x_pad.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(b.shape)
    for n in range(N):
        for f in range(F):
            db[f] += np.sum(dout[n, f])
            for i in range(H_out):
                for j in range(W_out):
                    h0 = i * stride
                    w0 = j * stride
                    dw[f] += x_pad[n, :, h0:h0 + HH, w0:w0 + WW] * dout[n, f, i, j]
                    dx_pad[n, :, h0:h0 + HH, w0:w0 + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
'''

# im2col by fancy indexing, a matrix product, and col2im with np.add.at.
CONV_IM2COL = '''
def _window_indices(HH, WW, stride, H_out, W_out):
    """Row and column of every (kernel entry, output position) pair: (HH*WW, H_out*W_out)."""
    kernel_rows = np.repeat(np.arange(HH), WW)
    kernel_cols = np.tile(np.arange(WW), HH)
    out_rows = stride * np.repeat(np.arange(H_out), W_out)
    out_cols = stride * np.tile(np.arange(W_out), H_out)
    return kernel_rows[:, None] + out_rows[None, :], kernel_cols[:, None] + out_cols[None, :]


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    x_pad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    rows, cols = _window_indices(HH, WW, stride, H_out, W_out)
    patches = x_pad[:, :, rows, cols]                        # (N, C, HH*WW, H_out*W_out)
    x_cols = patches.transpose(1, 2, 0, 3).reshape(C * HH * WW, -1)
    out = w.reshape(F, -1).dot(x_cols) + b[:, None]
    out = out.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)
    cache = (x, w, b, conv_param, x_cols)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param, x_cols = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    db = dout_rows.sum(axis=1)
    dw = dout_rows.dot(x_cols.T).reshape(w.shape)
    dx_cols = w.reshape(F, -1).T.dot(dout_rows)
    dpatches = dx_cols.reshape(C, HH * WW, N, H_out * W_out).transpose(2, 0, 1, 3)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dx_cols.dtype)
    rows, cols = _window_indices(HH, WW, stride, H_out, W_out)
    np.add.at(dx_pad, (slice(None), slice(None), rows, cols), dpatches)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
'''

# as_strided window views with einsum; the backward loops over kernel offsets.
CONV_STRIDED_EINSUM = '''
from numpy.lib.stride_tricks import as_strided


def conv_forward_naive(x, w, b, conv_param):
    s, p = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * p - HH) // s
    W_out = 1 + (W + 2 * p - WW) // s
    x_pad = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))))
    sN, sC, sH, sW = x_pad.strides
    windows = as_strided(x_pad, shape=(N, C, H_out, W_out, HH, WW),
                         strides=(sN, sC, sH * s, sW * s, sH, sW), writeable=False)
    out = np.einsum('nchwij,fcij->nfhw', windows, w) + b[None, :, None, None]
    return out, (x, w, b, conv_param, windows)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param, windows = cache
    s, p = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    db = dout.sum(axis=(0, 2, 3))
    dw = np.einsum('nchwij,nfhw->fcij', windows, dout)
    dx_pad = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=np.result_type(dout, w))
    for i in range(HH):
        for j in range(WW):
            dx_pad[:, :, i:i + s * H_out:s, j:j + s * W_out:s] += np.einsum('nfhw,fc->nchw', dout, w[:, :, i, j])
    return dx_pad[:, :, p:p + H, p:p + W], dw, db
'''

# A loop over output positions, vectorised over images and filters with tensordot.
CONV_TENSORDOT_POSITIONS = '''
def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, C, HH, WW = w.shape
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    out = np.empty((N, F, Ho, Wo), dtype=np.result_type(x, w))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, C, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(Ho):
        for j in range(Wo):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    db = np.sum(dout, axis=(0, 2, 3))
    dx = dxp[:, :, pad:H + pad, pad:W + pad]
    return dx, dw, db
'''

# Shift and add: a loop over kernel offsets, each a strided slice of the padded input.
CONV_KERNEL_OFFSETS = '''
def conv_forward_naive(x, w, b, conv_param):
    S, P = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = (H + 2 * P - HH) // S + 1
    Wo = (W + 2 * P - WW) // S + 1
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    out = np.zeros((N, Ho, Wo, F), dtype=x.dtype)
    for kh in range(HH):
        for kw in range(WW):
            shifted = xp[:, :, kh:kh + S * Ho:S, kw:kw + S * Wo:S]       # (N, C, Ho, Wo)
            out += np.tensordot(shifted, w[:, :, kh, kw], axes=([1], [1]))
    out = out.transpose(0, 3, 1, 2) + b.reshape(1, F, 1, 1)
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    S, P = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    dxp = np.zeros(xp.shape, dtype=x.dtype)
    dw = np.zeros(w.shape, dtype=w.dtype)
    for kh in range(HH):
        for kw in range(WW):
            shifted = xp[:, :, kh:kh + S * Ho:S, kw:kw + S * Wo:S]
            dw[:, :, kh, kw] = np.tensordot(dout, shifted, axes=([0, 2, 3], [0, 2, 3]))
            contribution = np.tensordot(dout, w[:, :, kh, kw], axes=([1], [0]))   # (N, Ho, Wo, C)
            dxp[:, :, kh:kh + S * Ho:S, kw:kw + S * Wo:S] += contribution.transpose(0, 3, 1, 2)
    db = dout.sum(axis=0).sum(axis=1).sum(axis=1)
    return dxp[:, :, P:P + H, P:P + W], dw, db
'''

# The most literal forward: padding by hand and a scalar sum over channels and kernel entries.
CONV_FORWARD_SCALAR = '''
def conv_forward_naive(x, w, b, conv_param):
    N, C, H, W = x.shape
    F, C, HH, WW = w.shape
    S = conv_param['stride']
    P = conv_param['pad']
    Hp, Wp = H + 2 * P, W + 2 * P
    xp = np.zeros((N, C, Hp, Wp), dtype=x.dtype)
    xp[:, :, P:P + H, P:P + W] = x
    Ho = int((Hp - HH) / S) + 1
    Wo = int((Wp - WW) / S) + 1
    out = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    total = b[f]
                    for c in range(C):
                        for di in range(HH):
                            for dj in range(WW):
                                total += xp[n, c, i * S + di, j * S + dj] * w[f, c, di, dj]
                    out[n, f, i, j] = total
    cache = (x, w, b, conv_param)
    return out, cache
'''

# Loops over filters and positions, summing over all images at once; computed in float64.
CONV_FILTER_LOOPS_FLOAT64 = '''
def conv_forward_naive(x, w, b, conv_param):
    stride = int(conv_param['stride'])
    pad = int(conv_param['pad'])
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out_h = (H + 2 * pad - HH) // stride + 1
    out_w = (W + 2 * pad - WW) // stride + 1
    padded = np.pad(x64, ((0, 0), (0, 0), (pad, pad), (pad, pad)), 'constant', constant_values=0)
    out = np.zeros((N, F, out_h, out_w))
    for f in range(F):
        for i in range(out_h):
            for j in range(out_w):
                region = padded[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                out[:, f, i, j] = np.sum(region * w64[f], axis=(1, 2, 3)) + b[f]
    return out.astype(x.dtype), (x, w, b, conv_param)
'''

# ---- max pooling ---------------------------------------------------------------------------

POOL_FORWARD_CLASSIC = '''
def max_pool_forward_naive(x, pool_param):
    out = None
    N, C, H, W = x.shape
    ph = pool_param['pool_height']
    pw = pool_param['pool_width']
    s = pool_param['stride']
    H_out = 1 + (H - ph) // s
    W_out = 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * s:i * s + ph, j * s:j * s + pw])
    cache = (x, pool_param)
    return out, cache
'''

POOL_BACKWARD_CLASSIC = '''
def max_pool_backward_naive(dout, cache):
    dx = None
    x, pool_param = cache
    N, C, H, W = x.shape
    ph = pool_param['pool_height']
    pw = pool_param['pool_width']
    s = pool_param['stride']
    _, _, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    mask = (window == np.max(window))
                    dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += mask * dout[n, c, i, j]
    return dx
'''

# Non-overlapping windows by reshape (loops otherwise); the backward by a mask of the maxima.
POOL_RESHAPE = '''
def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    H_out = (H - ph) // s + 1
    W_out = (W - pw) // s + 1
    if ph == pw == s:
        # the windows tile the top-left H_out*s x W_out*s corner: crop, then reshape
        tiles = x[:, :, :H_out * s, :W_out * s].reshape(N, C, H_out, ph, W_out, pw)
        out = tiles.max(axis=(3, 5))
    else:
        out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
        for i in range(H_out):
            for j in range(W_out):
                out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    cache = (x, pool_param, out)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param, out = cache
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    if ph == pw == s:
        tiles = x[:, :, :H_out * s, :W_out * s].reshape(N, C, H_out, ph, W_out, pw)
        mask = tiles == out[:, :, :, None, :, None]
        dtiles = mask * dout[:, :, :, None, :, None]
        dx[:, :, :H_out * s, :W_out * s] = dtiles.reshape(N, C, H_out * s, W_out * s)
    else:
        for i in range(H_out):
            for j in range(W_out):
                window = x[:, :, i * s:i * s + ph, j * s:j * s + pw]
                mask = window == out[:, :, i, j][:, :, None, None]
                dx[:, :, i * s:i * s + ph, j * s:j * s + pw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx
'''

# as_strided windows; the backward sends each window's gradient to its argmax with np.add.at.
POOL_STRIDED_ARGMAX = '''
from numpy.lib.stride_tricks import as_strided


def _pool_windows(x, ph, pw, s):
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    H_out, W_out = (H - ph) // s + 1, (W - pw) // s + 1
    sN, sC, sH, sW = x.strides
    return as_strided(x, shape=(N, C, H_out, W_out, ph, pw),
                      strides=(sN, sC, sH * s, sW * s, sH, sW), writeable=False)


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    out = _pool_windows(x, ph, pw, s).max(axis=(4, 5))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H_out, W_out = dout.shape
    windows = _pool_windows(x, ph, pw, s)
    best = windows.reshape(N, C, H_out, W_out, ph * pw).argmax(axis=-1)
    rows = s * np.arange(H_out)[:, None] + best // pw
    cols = s * np.arange(W_out)[None, :] + best % pw
    n = np.arange(N)[:, None, None, None]
    c = np.arange(C)[None, :, None, None]
    dx = np.zeros(x.shape, dtype=dout.dtype)
    np.add.at(dx, (n, c, rows, cols), dout)
    return dx
'''

# Scalar loops with np.unravel_index of the window's argmax.
POOL_UNRAVEL = '''
def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    HH, WW, S = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    Ho = 1 + (H - HH) // S
    Wo = 1 + (W - WW) // S
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = np.amax(x[n, c, i * S:i * S + HH, j * S:j * S + WW])
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    N, C, H, W = x.shape
    HH, WW, S = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    _, _, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * S:i * S + HH, j * S:j * S + WW]
                    r, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * S + r, j * S + q] += dout[n, c, i, j]
    return dx
'''

# ---- spatial batch normalisation -------------------------------------------------------------

# Written directly with statistics over axes (0, 2, 3); running statistics default to zeros.
SBN_DIRECT_AXES = '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    out, cache = None, None
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    N, C, H, W = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(C, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(C, dtype=x.dtype))
    g = gamma.reshape(1, C, 1, 1)
    bt = beta.reshape(1, C, 1, 1)
    if mode == 'train':
        mu = x.mean(axis=(0, 2, 3))
        var = x.var(axis=(0, 2, 3))
        x_hat = (x - mu.reshape(1, C, 1, 1)) / np.sqrt(var.reshape(1, C, 1, 1) + eps)
        out = g * x_hat + bt
        cache = (x_hat, gamma, var, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == 'test':
        x_hat = (x - running_mean.reshape(1, C, 1, 1)) / np.sqrt(running_var.reshape(1, C, 1, 1) + eps)
        out = g * x_hat + bt
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    x_hat, gamma, var, eps = cache
    N, C, H, W = dout.shape
    M = N * H * W
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx_hat = dout * gamma.reshape(1, C, 1, 1)
    inv_std = (1.0 / np.sqrt(var + eps)).reshape(1, C, 1, 1)
    dx = inv_std / M * (M * dx_hat - dx_hat.sum(axis=(0, 2, 3), keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=(0, 2, 3), keepdims=True))
    return dx, dgamma, dbeta
'''

# The forward written directly (keepdims statistics), the backward as the staged computational graph.
SBN_STAGED = '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    N, C, H, W = x.shape
    running_mean = bn_param.get('running_mean', np.zeros((1, C, 1, 1), dtype=x.dtype)).reshape(1, C, 1, 1)
    running_var = bn_param.get('running_var', np.zeros((1, C, 1, 1), dtype=x.dtype)).reshape(1, C, 1, 1)
    out, cache = None, None
    if mode == 'train':
        mu = np.mean(x, axis=(0, 2, 3), keepdims=True)
        xmu = x - mu
        var = np.mean(xmu ** 2, axis=(0, 2, 3), keepdims=True)
        sqrtvar = np.sqrt(var + eps)
        ivar = 1.0 / sqrtvar
        xhat = xmu * ivar
        out = gamma.reshape(1, C, 1, 1) * xhat + beta.reshape(1, C, 1, 1)
        cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == 'test':
        xhat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma.reshape(1, C, 1, 1) * xhat + beta.reshape(1, C, 1, 1)
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param['running_mean'] = running_mean.reshape(C)
    bn_param['running_var'] = running_var.reshape(C)
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, C, H, W = dout.shape
    M = N * H * W
    axes = (0, 2, 3)
    dbeta = np.sum(dout, axis=axes)
    dgamma = np.sum(dout * xhat, axis=axes)
    dxhat = dout * gamma.reshape(1, C, 1, 1)
    divar = np.sum(dxhat * xmu, axis=axes, keepdims=True)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    dvar = 0.5 / np.sqrt(var + eps) * dsqrtvar
    dsq = np.ones_like(dout) * dvar / M
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -np.sum(dx1, axis=axes, keepdims=True)
    dx2 = np.ones_like(dout) * dmu / M
    dx = dx1 + dx2
    return dx, dgamma, dbeta
'''

# The vanilla batchnorm on an (N*H*W, C) view made with np.moveaxis; the cache keeps the shape.
SBN_MOVEAXIS_VANILLA = '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    x_flat = np.moveaxis(x, 1, -1).reshape(N * H * W, C)
    out_flat, bn_cache = batchnorm_forward(x_flat, gamma, beta, bn_param)
    out = np.moveaxis(out_flat.reshape(N, H, W, C), -1, 1)
    cache = (bn_cache, x.shape)
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    bn_cache, (N, C, H, W) = cache
    dout_flat = np.moveaxis(dout, 1, -1).reshape(-1, C)
    dx_flat, dgamma, dbeta = batchnorm_backward(dout_flat, bn_cache)
    dx = np.moveaxis(dx_flat.reshape(N, H, W, C), -1, 1)
    return dx, dgamma, dbeta
'''

# Computed in float64 whatever the input (the output is float64 for float32 inputs).
SBN_FLOAT64 = '''
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    rows = x.astype(np.float64).transpose(0, 2, 3, 1).reshape(-1, C)
    out_rows, cache = batchnorm_forward(rows, gamma.astype(np.float64), beta.astype(np.float64),
                                        bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    drows = dout.astype(np.float64).transpose(0, 2, 3, 1).reshape(-1, C)
    dx_rows, dgamma, dbeta = batchnorm_backward(drows, cache)
    return dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta
'''

# ---- nndl/layers.py ------------------------------------------------------------------------

# The classic vanilla batchnorm: a long cache and the staged backward (float64 ones in it).
BATCHNORM_CLASSIC = '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    N, D = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == 'train':
        sample_mean = np.mean(x, axis=0)
        xmu = x - sample_mean
        sq = xmu ** 2
        sample_var = np.mean(sq, axis=0)
        sqrtvar = np.sqrt(sample_var + eps)
        ivar = 1. / sqrtvar
        xhat = xmu * ivar
        out = gamma * xhat + beta
        cache = (xhat, gamma, xmu, ivar, sqrtvar, sample_var, eps)
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == 'test':
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1. / (sqrtvar ** 2) * divar
    dvar = 0.5 * 1. / np.sqrt(var + eps) * dsqrtvar
    dsq = 1. / N * np.ones((N, D)) * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dx1, axis=0)
    dx2 = 1. / N * np.ones((N, D)) * dmu
    dx = dx1 + dx2
    return dx, dgamma, dbeta
'''

# ReLU whose cache is its output: out > 0 exactly where x > 0.
RELU_CACHE_OUT = '''
def relu_forward(x):
    out = np.maximum(0, x)
    cache = out
    return out, cache


def relu_backward(dout, cache):
    out = cache
    dx = dout * (out > 0)
    return dx
'''

RELU_BACKWARD_COPY_MASK = '''
def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx
'''

# In place, the way many students write it: the forward zeroes the negatives of x itself and
# caches the result; the backward zeroes dout where x <= 0 and returns dout. Both write into
# their argument but return the right values (relu is idempotent, and x > 0 exactly where
# relu(x) > 0, so the cached array still masks right).
RELU_FORWARD_IN_PLACE = '''
def relu_forward(x):
    out = None
    x[x < 0] = 0
    out = x
    cache = x
    return out, cache
'''

RELU_BACKWARD_IN_PLACE = '''
def relu_backward(dout, cache):
    dx, x = None, cache
    dout[x <= 0] = 0
    dx = dout
    return dx
'''

RELU_BACKWARD_WHERE = '''
def relu_backward(dout, cache):
    dx, x = None, cache
    dx = np.where(x > 0, dout, np.zeros_like(dout))
    return dx
'''

# Probabilities first, then the log of the correct class's probability.
SOFTMAX_PROBS = '''
def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= np.sum(probs, axis=1, keepdims=True)
    N = x.shape[0]
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx
'''

SOFTMAX_LOGSUMEXP = '''
def softmax_loss(x, y):
    z = x - x.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    return float(loss), dx
'''

# ---- ThreeLayerConvNet ---------------------------------------------------------------------

# The classic template: bn_params as a dict of dicts holding only the mode (the batchnorm layers
# start their running statistics from zeros), np.random.normal, the penalty written out.
CNN_CLASSIC_DICT = '''
class ThreeLayerConvNet(object):

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32, use_batchnorm=False):
        self.use_batchnorm = use_batchnorm
        self.params = {}
        self.reg = reg
        self.dtype = dtype
        self.bn_params = {}

        C, H, W = input_dim
        H_pool = H // 2
        W_pool = W // 2
        self.params['W1'] = np.random.normal(0, weight_scale, (num_filters, C, filter_size, filter_size))
        self.params['b1'] = np.zeros(num_filters)
        self.params['W2'] = np.random.normal(0, weight_scale, (num_filters * H_pool * W_pool, hidden_dim))
        self.params['b2'] = np.zeros(hidden_dim)
        self.params['W3'] = np.random.normal(0, weight_scale, (hidden_dim, num_classes))
        self.params['b3'] = np.zeros(num_classes)
        if self.use_batchnorm:
            self.params['gamma1'] = np.ones(num_filters)
            self.params['beta1'] = np.zeros(num_filters)
            self.params['gamma2'] = np.ones(hidden_dim)
            self.params['beta2'] = np.zeros(hidden_dim)
            self.bn_params['bn_param1'] = {'mode': 'train'}
            self.bn_params['bn_param2'] = {'mode': 'train'}

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        W3, b3 = self.params['W3'], self.params['b3']

        filter_size = W1.shape[2]
        conv_param = {'stride': 1, 'pad': (filter_size - 1) // 2}
        pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}

        mode = 'test' if y is None else 'train'
        if self.use_batchnorm:
            for key, bn_param in self.bn_params.items():
                bn_param['mode'] = mode

        scores = None
        if self.use_batchnorm:
            out1, cache1 = conv_bn_relu_pool_forward(X, W1, b1, self.params['gamma1'], self.params['beta1'],
                                                     conv_param, self.bn_params['bn_param1'], pool_param)
            out2, cache2 = affine_bn_relu_forward(out1, W2, b2, self.params['gamma2'], self.params['beta2'],
                                                  self.bn_params['bn_param2'])
        else:
            out1, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
            out2, cache2 = affine_relu_forward(out1, W2, b2)
        scores, cache3 = affine_forward(out2, W3, b3)

        if y is None:
            return scores

        loss, grads = 0, {}
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))

        dout2, grads['W3'], grads['b3'] = affine_backward(dscores, cache3)
        if self.use_batchnorm:
            dout1, grads['W2'], grads['b2'], grads['gamma2'], grads['beta2'] = affine_bn_relu_backward(dout2, cache2)
            dx, grads['W1'], grads['b1'], grads['gamma1'], grads['beta1'] = conv_bn_relu_pool_backward(dout1, cache1)
        else:
            dout1, grads['W2'], grads['b2'] = affine_relu_backward(dout2, cache2)
            dx, grads['W1'], grads['b1'] = conv_relu_pool_backward(dout1, cache1)
        grads['W3'] += self.reg * W3
        grads['W2'] += self.reg * W2
        grads['W1'] += self.reg * W1

        return loss, grads
'''

# The layers called directly (fast conv and pool, own softmax); the loss a Python float;
# parameters created in another order; extra attributes; pad = filter_size // 2 (odd filters).
CNN_DIRECT_LAYERS = '''
from cs231n.fast_layers import (conv_backward_fast, conv_forward_fast, max_pool_backward_fast,
                                max_pool_forward_fast)
from nndl.conv_layers import spatial_batchnorm_backward, spatial_batchnorm_forward
from nndl.layers import batchnorm_backward, batchnorm_forward, relu_backward, relu_forward


class ThreeLayerConvNet(object):

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32, use_batchnorm=False):
        self.use_batchnorm = bool(use_batchnorm)
        self.reg = float(reg)
        self.dtype = dtype
        self.num_layers = 3
        self.conv_param = {'stride': 1, 'pad': filter_size // 2}
        self.pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}
        C, H, W = input_dim
        pooled_h = (H + 2 * (filter_size // 2) - filter_size + 1) // 2
        pooled_w = (W + 2 * (filter_size // 2) - filter_size + 1) // 2
        self.params = {}
        self.params['b3'] = np.zeros(num_classes)
        self.params['b2'] = np.zeros(hidden_dim)
        self.params['b1'] = np.zeros(num_filters)
        if self.use_batchnorm:
            self.params['gamma2'] = np.ones(hidden_dim)
            self.params['beta2'] = np.zeros(hidden_dim)
            self.params['gamma1'] = np.ones(num_filters)
            self.params['beta1'] = np.zeros(num_filters)
        self.params['W3'] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params['W2'] = weight_scale * np.random.randn(num_filters * pooled_h * pooled_w, hidden_dim)
        self.params['W1'] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
        self.bn_params = []
        if self.use_batchnorm:
            self.bn_params = [{'mode': 'train', 'running_mean': np.zeros(num_filters, dtype=dtype),
                               'running_var': np.ones(num_filters, dtype=dtype)},
                              {'mode': 'train', 'running_mean': np.zeros(hidden_dim, dtype=dtype),
                               'running_var': np.ones(hidden_dim, dtype=dtype)}]
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}
        self.last_caches = None

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        p = self.params
        for bn_param in self.bn_params:
            bn_param['mode'] = 'train' if y is not None else 'test'
        a1, conv_cache = conv_forward_fast(X, p['W1'], p['b1'], self.conv_param)
        bn1_cache = None
        if self.use_batchnorm:
            a1, bn1_cache = spatial_batchnorm_forward(a1, p['gamma1'], p['beta1'], self.bn_params[0])
        r1, relu1_cache = relu_forward(a1)
        h1, pool_cache = max_pool_forward_fast(r1, self.pool_param)
        h1_flat = h1.reshape(h1.shape[0], -1)
        a2 = h1_flat.dot(p['W2']) + p['b2']
        bn2_cache = None
        if self.use_batchnorm:
            a2, bn2_cache = batchnorm_forward(a2, p['gamma2'], p['beta2'], self.bn_params[1])
        h2, relu2_cache = relu_forward(a2)
        scores = h2.dot(p['W3']) + p['b3']
        self.last_caches = (conv_cache, pool_cache)
        if y is None:
            return scores

        N = X.shape[0]
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        data_loss = -log_probs[np.arange(N), y].sum() / N
        penalty = sum(np.sum(np.square(p[k])) for k in ('W1', 'W2', 'W3'))
        loss = float(data_loss + 0.5 * self.reg * penalty)

        grads = {}
        dscores = np.exp(log_probs)
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads['W3'] = h2.T.dot(dscores) + self.reg * p['W3']
        grads['b3'] = dscores.sum(axis=0)
        da2 = relu_backward(dscores.dot(p['W3'].T), relu2_cache)
        if self.use_batchnorm:
            da2, grads['gamma2'], grads['beta2'] = batchnorm_backward(da2, bn2_cache)
        grads['W2'] = h1_flat.T.dot(da2) + self.reg * p['W2']
        grads['b2'] = da2.sum(axis=0)
        dh1 = da2.dot(p['W2'].T).reshape(h1.shape)
        da1 = relu_backward(max_pool_backward_fast(dh1, pool_cache), relu1_cache)
        if self.use_batchnorm:
            da1, grads['gamma1'], grads['beta1'] = spatial_batchnorm_backward(da1, bn1_cache)
        _, dW1, grads['b1'] = conv_backward_fast(da1, conv_cache)
        grads['W1'] = dW1 + self.reg * p['W1']
        return loss, grads
'''
