# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Compiled passes of the reference solution's Adam and batchnorm (INSTRUCTOR-ONLY).

This module is part of the reference solution, not of the provided framework:
it holds a complete Adam step and the batchnorm gradient formula, which are the
students' homework. It lives in solutions/nndl/, which never ships (the release
stubs only solutions/nndl/*.py, and the import of this module sits inside their
stripped solution blocks); setup.py builds it in place for the instructor
(`python setup.py build_ext --inplace`, `pip install -e .`) and never into an
installed package, and the Gradescope sdist holds no solutions/.

nndl.layers and nndl.optim call these where the arrays are C-contiguous and of
one dtype (float32 or float64), and otherwise (or where this module is not
built) run numpy code that gives the same numbers bit for bit: each kernel does
numpy's operations, in numpy's order and in the arrays' precision, but in one
pass over memory where numpy makes a pass per operation.

- _adam_update_into(w, dw, v_old, a_old, next_w, v, a, beta1, beta2,
  a_correction, eps, step_scale): one Adam step over flat arrays
- _shifted_sums_into(x, shift, sums, squares): column sums of x - shift and of
  its square (batchnorm's statistics)
- _normalise_into(x, mean, scale, beta, out): out = (x - mean) * scale + beta
- _gradient_sums_into(dout, x, mean, sums, products): column sums of dout and of
  dout * (x - mean) (dbeta, and dgamma before its factor inv_std)
- _batchnorm_dx_into(dout, x, mean, centred_factor, mean_dout, scale, dx):
  dx = (dout - (x - mean) * centred_factor - mean_dout) * scale
"""

ctypedef fused floating_t:
    float
    double


# --------------------------------------------------------------------------- #
# Adam update (nndl.optim.adam)
# --------------------------------------------------------------------------- #

cdef extern from *:
    """
    #include <math.h>
    /* One pass over the arrays: each entry of w, dw and the moments is read once
       and next_w and the moments written once (numpy needs a pass per operation).
       restrict: the outputs never overlap the inputs, so the loop vectorises
       (with -fno-math-errno, which lets sqrt vectorise too). */
    #define NNDL_ADAM(NAME, T, SQRT)                                                 \\
    static void NAME(Py_ssize_t n, const T *restrict w, const T *restrict dw,        \\
                     const T *restrict v_old, const T *restrict a_old,              \\
                     T *restrict next_w, T *restrict v, T *restrict a,              \\
                     T beta1, T beta2, T one_minus_beta1, T one_minus_beta2,        \\
                     T a_correction, T eps, T step_scale) {                         \\
        for (Py_ssize_t i = 0; i < n; i++) {                                        \\
            T g = dw[i];                                                            \\
            T vi = v_old[i] * beta1 + one_minus_beta1 * g;                          \\
            T ai = a_old[i] * beta2 + (g * g) * one_minus_beta2;                    \\
            v[i] = vi;                                                              \\
            a[i] = ai;                                                              \\
            next_w[i] = w[i] - (vi / (SQRT(ai / a_correction) + eps)) * step_scale; \\
        }                                                                           \\
    }
    NNDL_ADAM(nndl_adam_float, float, sqrtf)
    NNDL_ADAM(nndl_adam_double, double, sqrt)
    """
    void nndl_adam_float(Py_ssize_t n, const float *w, const float *dw, const float *v_old,
                         const float *a_old, float *next_w, float *v, float *a,
                         float beta1, float beta2, float one_minus_beta1,
                         float one_minus_beta2, float a_correction, float eps,
                         float step_scale) noexcept nogil
    void nndl_adam_double(Py_ssize_t n, const double *w, const double *dw,
                          const double *v_old, const double *a_old, double *next_w,
                          double *v, double *a, double beta1, double beta2,
                          double one_minus_beta1, double one_minus_beta2,
                          double a_correction, double eps, double step_scale) noexcept nogil


def _adam_update_into(const floating_t[::1] w, const floating_t[::1] dw,
                      const floating_t[::1] v_old, const floating_t[::1] a_old,
                      floating_t[::1] next_w, floating_t[::1] v, floating_t[::1] a,
                      double beta1, double beta2, double a_correction, double eps,
                      double step_scale):
    """One Adam step over flat arrays of one dtype, written into next_w, v and a
    (which must not overlap the inputs): v = beta1 * v_old + (1 - beta1) * dw,
    a = beta2 * a_old + (1 - beta2) * dw**2,
    next_w = w - step_scale * v / (sqrt(a / a_correction) + eps), computed in the
    arrays' precision in the order nndl.optim.adam's numpy code uses (the
    Python floats are rounded to the arrays' dtype first, as numpy does)."""
    cdef Py_ssize_t n = w.shape[0]
    for name, array in (("dw", dw), ("v_old", v_old), ("a_old", a_old), ("next_w", next_w),
                        ("v", v), ("a", a)):
        if array.shape[0] != n:
            raise ValueError("%s has %d entries, w has %d" % (name, array.shape[0], n))
    if n == 0:
        return
    with nogil:
        if floating_t is float:
            nndl_adam_float(n, &w[0], &dw[0], &v_old[0], &a_old[0], &next_w[0], &v[0], &a[0],
                            <float>beta1, <float>beta2, <float>(1 - beta1), <float>(1 - beta2),
                            <float>a_correction, <float>eps, <float>step_scale)
        else:
            nndl_adam_double(n, &w[0], &dw[0], &v_old[0], &a_old[0], &next_w[0], &v[0], &a[0],
                             beta1, beta2, 1 - beta1, 1 - beta2, a_correction, eps, step_scale)


# --------------------------------------------------------------------------- #
# Batch normalisation over rows (nndl.layers.batchnorm_forward / _backward)
# --------------------------------------------------------------------------- #

cdef extern from *:
    """
    /* x, dout, out, dx: n rows of d contiguous entries. The sums are taken in
       the arrays' precision, row after row, as numpy's einsum('ij->j', ...) and
       einsum('ij,ij->j', ...) take them for d > 1; the element-wise kernels do
       numpy's operations in numpy's order. So all give numpy's numbers. */
    #define NNDL_BATCHNORM(SUFFIX, T)                                                    \\
    static void nndl_shifted_sums_##SUFFIX(Py_ssize_t n, Py_ssize_t d,                  \\
            const T *restrict x, const T *restrict shift,                               \\
            T *restrict sums, T *restrict squares) {                                    \\
        for (Py_ssize_t j = 0; j < d; j++)                                              \\
            sums[j] = squares[j] = 0;                                                   \\
        for (Py_ssize_t i = 0; i < n; i++, x += d)                                      \\
            for (Py_ssize_t j = 0; j < d; j++) {                                        \\
                T s = x[j] - shift[j];                                                  \\
                sums[j] = sums[j] + s;                                                  \\
                squares[j] = squares[j] + s * s;                                        \\
            }                                                                           \\
    }                                                                                   \\
    static void nndl_gradient_sums_##SUFFIX(Py_ssize_t n, Py_ssize_t d,                 \\
            const T *restrict dout, const T *restrict x, const T *restrict mean,        \\
            T *restrict sums, T *restrict products) {                                   \\
        for (Py_ssize_t j = 0; j < d; j++)                                              \\
            sums[j] = products[j] = 0;                                                  \\
        for (Py_ssize_t i = 0; i < n; i++, x += d, dout += d)                           \\
            for (Py_ssize_t j = 0; j < d; j++) {                                        \\
                T centred = x[j] - mean[j];                                             \\
                sums[j] = sums[j] + dout[j];                                            \\
                products[j] = products[j] + dout[j] * centred;                          \\
            }                                                                           \\
    }                                                                                   \\
    static void nndl_normalise_##SUFFIX(Py_ssize_t n, Py_ssize_t d,                     \\
            const T *restrict x, const T *restrict mean, const T *restrict scale,       \\
            const T *restrict beta, T *restrict out) {                                  \\
        for (Py_ssize_t i = 0; i < n; i++, x += d, out += d)                            \\
            for (Py_ssize_t j = 0; j < d; j++) {                                        \\
                T t = x[j] - mean[j];                                                   \\
                t = t * scale[j];                                                       \\
                out[j] = t + beta[j];                                                   \\
            }                                                                           \\
    }                                                                                   \\
    static void nndl_batchnorm_dx_##SUFFIX(Py_ssize_t n, Py_ssize_t d,                  \\
            const T *restrict dout, const T *restrict x, const T *restrict mean,        \\
            const T *restrict centred_factor, const T *restrict mean_dout,              \\
            const T *restrict scale, T *restrict dx) {                                  \\
        for (Py_ssize_t i = 0; i < n; i++, x += d, dout += d, dx += d)                  \\
            for (Py_ssize_t j = 0; j < d; j++) {                                        \\
                T t = x[j] - mean[j];                                                   \\
                t = t * centred_factor[j];                                              \\
                t = dout[j] - t;                                                        \\
                t = t - mean_dout[j];                                                   \\
                dx[j] = t * scale[j];                                                   \\
            }                                                                           \\
    }
    NNDL_BATCHNORM(float, float)
    NNDL_BATCHNORM(double, double)
    """
    void nndl_shifted_sums_float(Py_ssize_t n, Py_ssize_t d, const float *x, const float *shift,
                                 float *sums, float *squares) noexcept nogil
    void nndl_shifted_sums_double(Py_ssize_t n, Py_ssize_t d, const double *x,
                                  const double *shift, double *sums,
                                  double *squares) noexcept nogil
    void nndl_gradient_sums_float(Py_ssize_t n, Py_ssize_t d, const float *dout, const float *x,
                                  const float *mean, float *sums, float *products) noexcept nogil
    void nndl_gradient_sums_double(Py_ssize_t n, Py_ssize_t d, const double *dout,
                                   const double *x, const double *mean, double *sums,
                                   double *products) noexcept nogil
    void nndl_normalise_float(Py_ssize_t n, Py_ssize_t d, const float *x, const float *mean,
                              const float *scale, const float *beta, float *out) noexcept nogil
    void nndl_normalise_double(Py_ssize_t n, Py_ssize_t d, const double *x, const double *mean,
                               const double *scale, const double *beta,
                               double *out) noexcept nogil
    void nndl_batchnorm_dx_float(Py_ssize_t n, Py_ssize_t d, const float *dout, const float *x,
                                 const float *mean, const float *centred_factor,
                                 const float *mean_dout, const float *scale,
                                 float *dx) noexcept nogil
    void nndl_batchnorm_dx_double(Py_ssize_t n, Py_ssize_t d, const double *dout,
                                  const double *x, const double *mean,
                                  const double *centred_factor, const double *mean_dout,
                                  const double *scale, double *dx) noexcept nogil


def _check_rows(name, array, Py_ssize_t n, Py_ssize_t d):
    if array.shape[0] != n or array.shape[1] != d:
        raise ValueError("%s has shape %s, expected (%d, %d)" % (name, tuple(array.shape[:2]), n, d))


def _check_features(Py_ssize_t d, *named):
    for name, array in named:
        if array.shape[0] != d:
            raise ValueError("%s has %d entries, expected %d" % (name, array.shape[0], d))


def _shifted_sums_into(const floating_t[:, ::1] x, const floating_t[::1] shift,
                       floating_t[::1] sums, floating_t[::1] squares):
    """sums = column sums of x - shift, squares = column sums of (x - shift)**2
    (x: (n, D) rows; sums in x's precision, row after row)."""
    cdef Py_ssize_t n = x.shape[0], d = x.shape[1]
    _check_features(d, ("shift", shift), ("sums", sums), ("squares", squares))
    if n == 0 or d == 0:
        sums[:] = 0
        squares[:] = 0
        return
    with nogil:
        if floating_t is float:
            nndl_shifted_sums_float(n, d, &x[0, 0], &shift[0], &sums[0], &squares[0])
        else:
            nndl_shifted_sums_double(n, d, &x[0, 0], &shift[0], &sums[0], &squares[0])


def _gradient_sums_into(const floating_t[:, ::1] dout, const floating_t[:, ::1] x,
                        const floating_t[::1] mean, floating_t[::1] sums,
                        floating_t[::1] products):
    """sums = column sums of dout, products = column sums of dout * (x - mean)."""
    cdef Py_ssize_t n = x.shape[0], d = x.shape[1]
    _check_rows("dout", dout, n, d)
    _check_features(d, ("mean", mean), ("sums", sums), ("products", products))
    if n == 0 or d == 0:
        sums[:] = 0
        products[:] = 0
        return
    with nogil:
        if floating_t is float:
            nndl_gradient_sums_float(n, d, &dout[0, 0], &x[0, 0], &mean[0], &sums[0],
                                     &products[0])
        else:
            nndl_gradient_sums_double(n, d, &dout[0, 0], &x[0, 0], &mean[0], &sums[0],
                                      &products[0])


def _normalise_into(const floating_t[:, ::1] x, const floating_t[::1] mean,
                    const floating_t[::1] scale, const floating_t[::1] beta,
                    floating_t[:, ::1] out):
    """out = (x - mean) * scale + beta, row by row (out must not overlap x)."""
    cdef Py_ssize_t n = x.shape[0], d = x.shape[1]
    _check_rows("out", out, n, d)
    _check_features(d, ("mean", mean), ("scale", scale), ("beta", beta))
    if n == 0 or d == 0:
        return
    with nogil:
        if floating_t is float:
            nndl_normalise_float(n, d, &x[0, 0], &mean[0], &scale[0], &beta[0], &out[0, 0])
        else:
            nndl_normalise_double(n, d, &x[0, 0], &mean[0], &scale[0], &beta[0], &out[0, 0])


def _batchnorm_dx_into(const floating_t[:, ::1] dout, const floating_t[:, ::1] x,
                       const floating_t[::1] mean, const floating_t[::1] centred_factor,
                       const floating_t[::1] mean_dout, const floating_t[::1] scale,
                       floating_t[:, ::1] dx):
    """dx = (dout - (x - mean) * centred_factor - mean_dout) * scale, row by row
    (dx must not overlap the inputs)."""
    cdef Py_ssize_t n = x.shape[0], d = x.shape[1]
    _check_rows("dout", dout, n, d)
    _check_rows("dx", dx, n, d)
    _check_features(d, ("mean", mean), ("centred_factor", centred_factor),
                    ("mean_dout", mean_dout), ("scale", scale))
    if n == 0 or d == 0:
        return
    with nogil:
        if floating_t is float:
            nndl_batchnorm_dx_float(n, d, &dout[0, 0], &x[0, 0], &mean[0], &centred_factor[0],
                                    &mean_dout[0], &scale[0], &dx[0, 0])
        else:
            nndl_batchnorm_dx_double(n, d, &dout[0, 0], &x[0, 0], &mean[0],
                                     &centred_factor[0], &mean_dout[0], &scale[0], &dx[0, 0])
