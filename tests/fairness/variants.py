"""The fairness suite: correct implementations in students' styles and single-bug ones.

Each Variant is the reference nndl/ with some definitions replaced (build.py) by
source text from styles.py. A correct variant must score full marks on every
graded item. A bug variant holds exactly one bug, planted as an edit of a
correct style; it must lose every item in `loses`, may lose the items in
`may_lose` (those that run the broken function too), must keep full marks on
every other item, and its feedback must match every regex in `feedback` (words
that name the bug). verify.py checks each label against the reference without
the grader before the class run trusts it.

The grader splits most items into case groups (GROUPS; an item without groups has
one, "all"). A bug whose damage stays in some groups says so: `confined_to` names
the groups it breaks (it must cost no more than those groups' points over the items
it touches), `feature` names the group of a missing feature (batchnorm,
regularisation) that the grader charges once across items (it must cost no more
than that group's largest share of one item). run.py holds the class run to both.
"""
from dataclasses import dataclass

from tests.fairness import styles as s

CONV_F = "conv_layers.conv_forward_naive.forward"
CONV_FS = "conv_layers.conv_forward_naive.forward_secret"
CONV_B = "conv_layers.conv_backward_naive.gradient"
POOL_F = "conv_layers.max_pool_forward_naive.forward"
POOL_FS = "conv_layers.max_pool_forward_naive.forward_secret"
POOL_B = "conv_layers.max_pool_backward_naive.gradient"
BN_TRAIN = "conv_layers.spatial_batchnorm_forward.train"
BN_TEST = "conv_layers.spatial_batchnorm_forward.test_mode"
BN_B = "conv_layers.spatial_batchnorm_backward.gradient"
RELU_B = "layers.relu_backward.gradient"
SOFTMAX = "layers.softmax_loss.loss"
CNN_F = "cnn.ThreeLayerConvNet.loss.forward"
CNN_G = "cnn.ThreeLayerConvNet.loss.gradient"
CNN_T = "cnn.ThreeLayerConvNet.loss.timing"
# Every item but the accuracy (that needs a trained cnn_model.npz per submission).
ITEMS = (CONV_F, CONV_FS, CONV_B, POOL_F, POOL_FS, POOL_B, BN_TRAIN, BN_TEST, BN_B, RELU_B,
         SOFTMAX, CNN_F, CNN_G, CNN_T)
ITEM_PATTERNS = "conv_layers.*,layers.*,cnn.ThreeLayerConvNet.loss.*"

CNN_BN = (CNN_F, CNN_G)  # a broken batchnorm layer also breaks the network that uses it

# The case groups of the grader's items (an item not listed has one group, "all").
CONV_GROUPS = ("core", "no_padding", "wide_padding", "odd_shapes", "float32")
POOL_GROUPS = ("core", "overlapping", "non_tiling", "float32")
GROUPS = {
    CONV_FS: CONV_GROUPS, CONV_B: CONV_GROUPS,
    POOL_FS: POOL_GROUPS, POOL_B: POOL_GROUPS,
    BN_TRAIN: ("core", "odd_shapes", "float32"), BN_B: ("core", "odd_shapes", "float32"),
    BN_TEST: ("core", "float32"),
    RELU_B: ("core", "float32"),
    SOFTMAX: ("core", "extreme_scores", "float32"),
    CNN_F: ("core", "regularisation", "batchnorm", "odd_sizes", "float32"),
    CNN_G: ("core", "regularisation", "batchnorm"),
}


def groups_of(item):
    """The case groups of an item: ("all",) for an item without groups."""
    return GROUPS.get(item, ("all",))


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    replaces: tuple          # ((nndl module, replacement source), ...)
    loses: tuple = ()        # bugs: items that must lose points
    may_lose: tuple = ()     # bugs: items that run the broken code too
    feedback: tuple = ()     # bugs: regexes the feedback must match
    confined_to: tuple = ()  # bugs: the only case groups the bug breaks (GROUPS)
    feature: str = ""        # bugs: the group of the missing feature (charged once across items)

    @property
    def is_bug(self):
        return bool(self.loses)

    @property
    def touches(self):
        """The items the bug may cost points on: loses + may_lose."""
        return tuple(self.loses) + tuple(self.may_lose)

    @property
    def label_groups(self):
        """The groups the bug is allowed to break (confined_to and the feature)."""
        return tuple(self.confined_to) + ((self.feature,) if self.feature else ())


def edit(source, *changes):
    """source with each (old, new) replaced; every old must occur exactly once, in order."""
    for old, new in changes:
        assert source.count(old) == 1, "edit target not unique: %r" % old
        source = source.replace(old, new)
    return source


def edit_all(source, old, new):
    """source with every occurrence of old replaced (at least one)."""
    assert old in source, "edit target missing: %r" % old
    return source.replace(old, new)


def _conv(*sources):
    return tuple(("conv_layers", src) for src in sources)


CLASSIC_CONV = _conv(s.CONV_FORWARD_CLASSIC, s.CONV_BACKWARD_CLASSIC)
CLASSIC_POOL = _conv(s.POOL_FORWARD_CLASSIC, s.POOL_BACKWARD_CLASSIC)

# ---- the classic template's CNN in the other places students keep batchnorm state ----------
CNN_LIST_RUNNING_VAR_ZEROS = edit(
    s.CNN_CLASSIC_DICT,
    ("self.bn_params = {}", "self.bn_params = []"),
    ("self.bn_params['bn_param1'] = {'mode': 'train'}\n"
     "            self.bn_params['bn_param2'] = {'mode': 'train'}",
     "self.bn_params.append({'mode': 'train', 'running_mean': np.zeros(num_filters),\n"
     "                                   'running_var': np.zeros(num_filters)})\n"
     "            self.bn_params.append({'mode': 'train', 'running_mean': np.zeros(hidden_dim),\n"
     "                                   'running_var': np.zeros(hidden_dim)})"),
    ("for key, bn_param in self.bn_params.items():", "for bn_param in self.bn_params:"),
    ("self.bn_params['bn_param1']", "self.bn_params[0]"),
    ("self.bn_params['bn_param2']", "self.bn_params[1]"))

CNN_BN_ATTRIBUTES = edit(
    s.CNN_CLASSIC_DICT,
    ("self.bn_params = {}", "self.bn_params = []"),
    ("self.bn_params['bn_param1'] = {'mode': 'train'}\n"
     "            self.bn_params['bn_param2'] = {'mode': 'train'}",
     "self.bn_conv = {'mode': 'train'}\n            self.bn_hidden = {'mode': 'train'}"),
    ("for key, bn_param in self.bn_params.items():",
     "for bn_param in (self.bn_conv, self.bn_hidden):"),
    ("self.bn_params['bn_param1']", "self.bn_conv"),
    ("self.bn_params['bn_param2']", "self.bn_hidden"))

CNN_BN_TUPLE = edit(
    s.CNN_CLASSIC_DICT,
    ("self.bn_params = {}", "self.bn_params = ()"),
    ("self.bn_params['bn_param1'] = {'mode': 'train'}\n"
     "            self.bn_params['bn_param2'] = {'mode': 'train'}",
     "self.bn_params = ({'mode': 'train', 'eps': 1e-5, 'momentum': 0.9},\n"
     "                              {'mode': 'train', 'eps': 1e-5, 'momentum': 0.9})"),
    ("for key, bn_param in self.bn_params.items():", "for bn_param in self.bn_params:"),
    ("self.bn_params['bn_param1']", "self.bn_params[0]"),
    ("self.bn_params['bn_param2']", "self.bn_params[1]"))

CNN_REG_OTHER_FORMS = edit(
    s.CNN_CLASSIC_DICT,
    ("loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))",
     "loss += 0.5 * self.reg * sum(np.linalg.norm(self.params[k]) ** 2 for k in ['W1', 'W2', 'W3'])"),
    ("        grads['W3'] += self.reg * W3\n        grads['W2'] += self.reg * W2\n"
     "        grads['W1'] += self.reg * W1\n",
     "        for k in ['W1', 'W2', 'W3']:\n            grads[k] = grads[k] + self.reg * self.params[k]\n"))

# The classic template without batchnorm at all: use_batchnorm is taken and ignored (no gamma,
# beta or bn_params, no batchnorm layers), the network is right otherwise.
CNN_WITHOUT_BATCHNORM = edit(
    s.CNN_CLASSIC_DICT,
    ("        if self.use_batchnorm:\n"
     "            self.params['gamma1'] = np.ones(num_filters)\n"
     "            self.params['beta1'] = np.zeros(num_filters)\n"
     "            self.params['gamma2'] = np.ones(hidden_dim)\n"
     "            self.params['beta2'] = np.zeros(hidden_dim)\n"
     "            self.bn_params['bn_param1'] = {'mode': 'train'}\n"
     "            self.bn_params['bn_param2'] = {'mode': 'train'}\n", ""),
    ("        if self.use_batchnorm:\n"
     "            out1, cache1 = conv_bn_relu_pool_forward(X, W1, b1, self.params['gamma1'], "
     "self.params['beta1'],\n"
     "                                                     conv_param, self.bn_params['bn_param1'], "
     "pool_param)\n"
     "            out2, cache2 = affine_bn_relu_forward(out1, W2, b2, self.params['gamma2'], "
     "self.params['beta2'],\n"
     "                                                  self.bn_params['bn_param2'])\n"
     "        else:\n"
     "            out1, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)\n"
     "            out2, cache2 = affine_relu_forward(out1, W2, b2)\n",
     "        out1, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)\n"
     "        out2, cache2 = affine_relu_forward(out1, W2, b2)\n"),
    ("        if self.use_batchnorm:\n"
     "            dout1, grads['W2'], grads['b2'], grads['gamma2'], grads['beta2'] = "
     "affine_bn_relu_backward(dout2, cache2)\n"
     "            dx, grads['W1'], grads['b1'], grads['gamma1'], grads['beta1'] = "
     "conv_bn_relu_pool_backward(dout1, cache1)\n"
     "        else:\n"
     "            dout1, grads['W2'], grads['b2'] = affine_relu_backward(dout2, cache2)\n"
     "            dx, grads['W1'], grads['b1'] = conv_relu_pool_backward(dout1, cache1)\n",
     "        dout1, grads['W2'], grads['b2'] = affine_relu_backward(dout2, cache2)\n"
     "        dx, grads['W1'], grads['b1'] = conv_relu_pool_backward(dout1, cache1)\n"))

CORRECT = [
    Variant("reference_unchanged", "the reference itself (the control)", ()),
    Variant("conv_classic_template", "conv forward and backward in the classic template: "
            "float64 np.zeros allocations, loops over n, f, i, j", CLASSIC_CONV),
    Variant("conv_backward_returns_list", "the classic template with the gradients returned as "
            "a list [dx, dw, db]", _conv(s.CONV_FORWARD_CLASSIC, edit(
                s.CONV_BACKWARD_CLASSIC, ("return dx, dw, db", "return [dx, dw, db]")))),
    Variant("conv_im2col", "conv by im2col (fancy indexing) and a matrix product, col2im with "
            "np.add.at, the columns kept in the cache", _conv(s.CONV_IM2COL)),
    Variant("conv_strided_einsum", "conv on as_strided windows with einsum; the backward loops "
            "over kernel offsets", _conv(s.CONV_STRIDED_EINSUM)),
    Variant("conv_tensordot_positions", "conv by a loop over output positions with tensordot",
            _conv(s.CONV_TENSORDOT_POSITIONS)),
    Variant("conv_kernel_offsets", "conv by shift-and-add over kernel offsets",
            _conv(s.CONV_KERNEL_OFFSETS)),
    Variant("conv_forward_scalar", "conv forward padded by hand, a scalar sum over c, di, dj",
            _conv(s.CONV_FORWARD_SCALAR)),
    Variant("conv_forward_float64_cast", "conv forward in float64, cast back to the input's dtype",
            _conv(s.CONV_FILTER_LOOPS_FLOAT64)),
    Variant("pool_classic_template", "max pool forward and backward in the classic template "
            "(float64 allocations, masks of the window maximum)", CLASSIC_POOL),
    Variant("pool_reshape", "max pool by reshape for non-overlapping windows, loops otherwise; "
            "the output kept in the cache", _conv(s.POOL_RESHAPE)),
    Variant("pool_strided_argmax", "max pool on as_strided windows, backward by argmax and "
            "np.add.at", _conv(s.POOL_STRIDED_ARGMAX)),
    Variant("pool_unravel_index", "max pool with scalar loops and np.unravel_index",
            _conv(s.POOL_UNRAVEL)),
    Variant("sbn_direct_axes", "spatial batchnorm written directly over axes (0, 2, 3), "
            "running statistics defaulting to zeros", _conv(s.SBN_DIRECT_AXES)),
    Variant("sbn_staged_backward", "spatial batchnorm with keepdims statistics and the staged "
            "computational-graph backward", _conv(s.SBN_STAGED)),
    Variant("sbn_moveaxis_vanilla", "spatial batchnorm through np.moveaxis and the vanilla "
            "batchnorm, the cache holding the shape", _conv(s.SBN_MOVEAXIS_VANILLA)),
    Variant("sbn_float64", "spatial batchnorm computed in float64 (float64 outputs for float32 "
            "inputs)", _conv(s.SBN_FLOAT64)),
    Variant("batchnorm_classic", "the classic vanilla batchnorm (long cache, staged backward with "
            "float64 ones) under the spatial batchnorm and the network",
            (("layers", s.BATCHNORM_CLASSIC),)),
    Variant("relu_cache_out", "ReLU caching its output and masking with out > 0",
            (("layers", s.RELU_CACHE_OUT),)),
    Variant("relu_backward_copy_mask", "ReLU backward as dout.copy() with dx[x <= 0] = 0",
            (("layers", s.RELU_BACKWARD_COPY_MASK),)),
    Variant("relu_backward_where", "ReLU backward with np.where",
            (("layers", s.RELU_BACKWARD_WHERE),)),
    Variant("relu_forward_in_place", "ReLU forward zeroing x's negatives in place (x[x < 0] = 0) "
            "and caching x: writes into its argument, returns the right values (a note, no cost)",
            (("layers", s.RELU_FORWARD_IN_PLACE),)),
    Variant("relu_backward_in_place", "ReLU backward zeroing dout in place (dout[x <= 0] = 0; "
            "dx = dout): writes into its argument, returns the right values (a note, no cost)",
            (("layers", s.RELU_BACKWARD_IN_PLACE),)),
    Variant("softmax_probs", "softmax through probabilities and log of the correct class's",
            (("layers", s.SOFTMAX_PROBS),)),
    Variant("softmax_logsumexp_float", "softmax by log-sum-exp, the loss a Python float",
            (("layers", s.SOFTMAX_LOGSUMEXP),)),
    Variant("cnn_bn_params_dict", "the classic template's ThreeLayerConvNet: bn_params a dict "
            "of dicts holding only the mode", (("cnn", s.CNN_CLASSIC_DICT),)),
    Variant("cnn_running_var_zeros", "bn_params a list, running_var starting from zeros",
            (("cnn", CNN_LIST_RUNNING_VAR_ZEROS),)),
    Variant("cnn_bn_attributes", "batchnorm state in two attributes (bn_params left empty)",
            (("cnn", CNN_BN_ATTRIBUTES),)),
    Variant("cnn_bn_tuple", "bn_params a tuple made after the parameters",
            (("cnn", CNN_BN_TUPLE),)),
    Variant("cnn_reg_other_forms", "the penalty as norm(W) ** 2 in a sum, gradients in a loop",
            (("cnn", CNN_REG_OTHER_FORMS),)),
    Variant("cnn_direct_layers", "the layers called directly, own softmax, loss a Python float, "
            "parameters in another order, extra attributes, pad = filter_size // 2",
            (("cnn", s.CNN_DIRECT_LAYERS),)),
    Variant("template_everything", "the whole classic template: loops with float64 allocations "
            "for conv and pool, direct spatial batchnorm, classic batchnorm, bn_params dict",
            CLASSIC_CONV + CLASSIC_POOL + _conv(s.SBN_DIRECT_AXES)
            + (("layers", s.BATCHNORM_CLASSIC), ("cnn", s.CNN_CLASSIC_DICT))),
]


def _bug(name, what, module, source, loses, may_lose=(), feedback=(), confined_to=(), feature=""):
    return Variant(name, what, ((module, source),), tuple(loses), tuple(may_lose), tuple(feedback),
                   tuple(confined_to), feature)


# Where no hint can name the bug itself, the feedback must at least say which output is wrong.
OUT_DIFFERS = r"\bout\b differs"
DX_DIFFERS = r"\bdx\b differs"
CRASH_NAMES_STUDENT_LINE = r"conv_layers\.py.{0,80}line \d+|line \d+.{0,80}conv_layers\.py"

BUGS = [
    # -- convolution
    _bug("conv_output_height_off_by_one", "H_out = (H + 2 * pad - HH) // stride (the 1 + forgotten)",
         "conv_layers", edit(s.CONV_FORWARD_CLASSIC, ("H_out = 1 + (H", "H_out = (H")),
         loses=(CONV_F, CONV_FS), may_lose=(CONV_B,), feedback=(r"shape",)),
    _bug("conv_stride_ignored", "the forward's windows start at i, j (stride ignored)",
         "conv_layers", edit(s.CONV_FORWARD_CLASSIC, ("h0 = i * stride", "h0 = i"),
                             ("w0 = j * stride", "w0 = j")),
         loses=(CONV_F, CONV_FS), may_lose=(CONV_B,), feedback=(OUT_DIFFERS,)),
    _bug("conv_kernel_flipped", "a true convolution (the filter flipped) instead of correlation",
         "conv_layers", edit(s.CONV_FORWARD_CLASSIC, ("* w[f, :, :, :]", "* w[f, :, ::-1, ::-1]")),
         loses=(CONV_F, CONV_FS), may_lose=(CONV_B,), feedback=(OUT_DIFFERS,)),
    _bug("conv_backward_dx_not_cropped", "dx returned with the padding (dx_pad, not cropped)",
         "conv_layers", edit(s.CONV_BACKWARD_CLASSIC,
                             ("dx = dx_pad[:, :, pad:pad + H, pad:pad + W]", "dx = dx_pad")),
         loses=(CONV_B,), feedback=(r"\bdx\b", r"shape")),
    _bug("conv_backward_dw_unpadded_x", "dw from windows of the unpadded x (crashes at the edges)",
         "conv_layers", edit(s.CONV_BACKWARD_CLASSIC,
                             ("dw[f] += x_pad[n, :,", "dw[f] += x[n, :,")),
         loses=(CONV_B,), feedback=(r"conv_backward_naive", CRASH_NAMES_STUDENT_LINE)),
    _bug("conv_backward_crop_negative_pad", "dx = dx_pad[:, :, pad:-pad, pad:-pad] (empty when "
         "pad = 0; right for every pad > 0)",
         "conv_layers", edit(s.CONV_BACKWARD_CLASSIC,
                             ("dx = dx_pad[:, :, pad:pad + H, pad:pad + W]",
                              "dx = dx_pad[:, :, pad:-pad, pad:-pad]")),
         loses=(CONV_B,), feedback=(r"\bdx\b", r"shape"), confined_to=("no_padding",)),
    _bug("conv_forward_removed_np_int", "the output size through np.int (removed in numpy 1.24: "
         "an AttributeError on the grader's numpy 2.x)",
         "conv_layers", edit(s.CONV_FORWARD_CLASSIC,
                             ("H_out = 1 + (H + 2 * pad - HH) // stride",
                              "H_out = np.int(1 + (H + 2 * pad - HH) / stride)"),
                             ("W_out = 1 + (W + 2 * pad - WW) // stride",
                              "W_out = np.int(1 + (W + 2 * pad - WW) / stride)")),
         loses=(CONV_F, CONV_FS), may_lose=(CONV_B,), feedback=(r"np\.int|removed",)),
    _bug("conv_backward_db_mean", "db averages dout over positions instead of summing",
         "conv_layers", edit(s.CONV_BACKWARD_CLASSIC,
                             ("db[f] += np.sum(dout[n, f])", "db[f] += np.mean(dout[n, f])")),
         loses=(CONV_B,), feedback=(r"\bdb\b",)),
    _bug("conv_backward_fancy_index_no_accumulate",
         "col2im with dx_pad[..., rows, cols] += (overlapping windows not accumulated)",
         "conv_layers", edit(s.CONV_IM2COL,
                             ("np.add.at(dx_pad, (slice(None), slice(None), rows, cols), dpatches)",
                              "dx_pad[:, :, rows, cols] += dpatches")),
         loses=(CONV_B,), feedback=(r"\bdx\b",)),
    # -- max pooling
    _bug("pool_backward_spread_to_window", "the window's gradient goes to all its entries",
         "conv_layers", edit(s.POOL_BACKWARD_CLASSIC, ("+= mask * dout[n, c, i, j]",
                                                       "+= dout[n, c, i, j]")),
         loses=(POOL_B,), feedback=(r"max",)),
    _bug("pool_backward_overwrites_overlaps", "dx[window] = mask * dout (overlapping windows "
         "overwrite each other)",
         "conv_layers", edit(s.POOL_BACKWARD_CLASSIC, ("+= mask * dout[n, c, i, j]",
                                                       "= mask * dout[n, c, i, j]")),
         loses=(POOL_B,), feedback=(r"overlap",), confined_to=("overlapping",)),
    _bug("pool_stride_is_pool_size", "the windows step by the pool size, not the stride",
         "conv_layers", edit(s.POOL_FORWARD_CLASSIC,
                             ("x[n, c, i * s:i * s + ph, j * s:j * s + pw]",
                              "x[n, c, i * ph:i * ph + ph, j * pw:j * pw + pw]")),
         loses=(POOL_FS,), may_lose=(POOL_B,), feedback=(r"max_pool_forward_naive",),
         confined_to=("overlapping",)),
    _bug("pool_output_size_rounds_up", "H_out and W_out rounded up (a partial window at the edge)",
         "conv_layers", edit(s.POOL_FORWARD_CLASSIC,
                             ("H_out = 1 + (H - ph) // s", "H_out = 1 + int(np.ceil((H - ph) / s))"),
                             ("W_out = 1 + (W - pw) // s", "W_out = 1 + int(np.ceil((W - pw) / s))")),
         loses=(POOL_FS,), may_lose=(POOL_B,), feedback=(r"shape",), confined_to=("non_tiling",)),
    _bug("pool_backward_offset_without_stride", "the argmax placed at i + r, not i * stride + r",
         "conv_layers", edit(s.POOL_UNRAVEL, ("dx[n, c, i * S + r, j * S + q]",
                                              "dx[n, c, i + r, j + q]")),
         loses=(POOL_B,), feedback=(DX_DIFFERS,)),
    # -- spatial batch normalisation
    _bug("sbn_unbiased_variance", "the batch variance with ddof=1",
         "conv_layers", edit(s.SBN_DIRECT_AXES, ("var = x.var(axis=(0, 2, 3))",
                                                 "var = x.var(axis=(0, 2, 3), ddof=1)")),
         loses=(BN_TRAIN, BN_TEST), may_lose=(BN_B,) + CNN_BN, feedback=(r"varian",)),
    _bug("sbn_no_eps", "the train-mode normalisation without eps",
         "conv_layers", edit(s.SBN_DIRECT_AXES,
                             ("/ np.sqrt(var.reshape(1, C, 1, 1) + eps)",
                              "/ np.sqrt(var.reshape(1, C, 1, 1))")),
         loses=(BN_TRAIN,), may_lose=(BN_B,) + CNN_BN, feedback=(r"eps",)),
    _bug("sbn_running_stats_not_stored", "the running statistics computed but never stored back",
         "conv_layers", edit(s.SBN_DIRECT_AXES,
                             ("    bn_param['running_mean'] = running_mean\n"
                              "    bn_param['running_var'] = running_var\n", "")),
         loses=(BN_TEST,), may_lose=(CNN_F,), feedback=(r"running",)),
    _bug("sbn_momentum_reversed", "running = (1 - momentum) * running + momentum * batch",
         "conv_layers", edit(s.SBN_DIRECT_AXES,
                             ("running_mean = momentum * running_mean + (1 - momentum) * mu",
                              "running_mean = (1 - momentum) * running_mean + momentum * mu"),
                             ("running_var = momentum * running_var + (1 - momentum) * var",
                              "running_var = (1 - momentum) * running_var + momentum * var")),
         loses=(BN_TEST,), may_lose=(CNN_F,), feedback=(r"momentum|running",)),
    _bug("sbn_running_stats_replaced", "the running statistics replaced by the batch's own "
         "(running_mean = mu, no momentum)",
         "conv_layers", edit(s.SBN_DIRECT_AXES,
                             ("running_mean = momentum * running_mean + (1 - momentum) * mu",
                              "running_mean = mu"),
                             ("running_var = momentum * running_var + (1 - momentum) * var",
                              "running_var = var")),
         loses=(BN_TEST,), may_lose=(CNN_F,), feedback=(r"momentum|running",)),
    _bug("sbn_test_mode_batch_stats", "test mode normalises with the batch's own statistics",
         "conv_layers", edit(s.SBN_DIRECT_AXES,
                             ("x_hat = (x - running_mean.reshape(1, C, 1, 1)) / "
                              "np.sqrt(running_var.reshape(1, C, 1, 1) + eps)",
                              "x_hat = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / "
                              "np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps)")),
         loses=(BN_TEST,), may_lose=(CNN_F,), feedback=(r"test mode|running",)),
    _bug("sbn_backward_mean_term_dropped", "the staged backward forgets the path through the mean",
         "conv_layers", edit(s.SBN_STAGED, ("dx = dx1 + dx2", "dx = dx1")),
         loses=(BN_B,), may_lose=(CNN_G,), feedback=(r"backward disagrees|bug is in the backward",)),
    _bug("sbn_reshape_without_transpose", "x.reshape(N * H * W, C) without moving the channel axis",
         "conv_layers", edit(s.SBN_MOVEAXIS_VANILLA,
                             ("x_flat = np.moveaxis(x, 1, -1).reshape(N * H * W, C)",
                              "x_flat = x.reshape(N * H * W, C)"),
                             ("out = np.moveaxis(out_flat.reshape(N, H, W, C), -1, 1)",
                              "out = out_flat.reshape(N, C, H, W)")),
         loses=(BN_TRAIN, BN_TEST), may_lose=(BN_B,) + CNN_BN,
         feedback=(OUT_DIFFERS,)),
    # -- carried-over layers
    _bug("relu_backward_masks_by_dout", "relu_backward masks with dout > 0 instead of x > 0",
         "layers", edit(s.RELU_BACKWARD_WHERE, ("np.where(x > 0,", "np.where(dout > 0,")),
         loses=(RELU_B,), may_lose=(CNN_G,), feedback=(DX_DIFFERS,)),
    _bug("softmax_log_epsilon", "loss = -log(p + 1e-7)",
         "layers", edit(s.SOFTMAX_PROBS, ("np.log(probs[np.arange(N), y])",
                                          "np.log(probs[np.arange(N), y] + 1e-7)")),
         loses=(SOFTMAX,), may_lose=CNN_BN, feedback=(r"epsilon|log\(p",)),
    _bug("softmax_log_epsilon_1e12", "loss = -log(p + 1e-12) (only tiny probabilities show it)",
         "layers", edit(s.SOFTMAX_PROBS, ("np.log(probs[np.arange(N), y])",
                                          "np.log(probs[np.arange(N), y] + 1e-12)")),
         loses=(SOFTMAX,), may_lose=CNN_BN, feedback=(r"epsilon|log\(p",), confined_to=("extreme_scores",)),
    _bug("softmax_not_shifted", "exp of the raw scores (overflows for large scores)",
         "layers", edit(s.SOFTMAX_PROBS, ("shifted = x - np.max(x, axis=1, keepdims=True)",
                                          "shifted = x")),
         loses=(SOFTMAX,), feedback=(r"overflow|shift",), confined_to=("extreme_scores",)),
    _bug("softmax_dx_not_averaged", "dx not divided by N",
         "layers", edit(s.SOFTMAX_PROBS, ("    dx /= N\n", "")),
         loses=(SOFTMAX,), may_lose=(CNN_G,), feedback=(r"\bdx\b",)),
    # -- ThreeLayerConvNet
    _bug("cnn_reg_missing_from_loss", "the penalty left out of the loss (the gradients have it)",
         "cnn", edit(s.CNN_CLASSIC_DICT, (
             "        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))\n",
             "")),
         loses=(CNN_F,), may_lose=(CNN_G,), feedback=(r"regulari[sz]",), feature="regularisation"),
    _bug("cnn_reg_missing_from_gradient", "the penalty's gradient left out",
         "cnn", edit(s.CNN_CLASSIC_DICT, (
             "        grads['W3'] += self.reg * W3\n        grads['W2'] += self.reg * W2\n"
             "        grads['W1'] += self.reg * W1\n", "")),
         loses=(CNN_G,), feedback=(r"regulari[sz]",), feature="regularisation"),
    _bug("cnn_reg_w3_cubed", "np.sum(W3 ** 3) in the loss's penalty",
         "cnn", edit(s.CNN_CLASSIC_DICT, ("np.sum(W3 * W3)", "np.sum(W3 ** 3)")),
         loses=(CNN_F,), may_lose=(CNN_G,), feedback=(r"regulari[sz]",), feature="regularisation"),
    _bug("cnn_reg_without_half", "reg * sum(W ** 2) with gradient 2 * reg * W (the docstring "
         "says 0.5 * reg)",
         "cnn", edit(edit_all(s.CNN_CLASSIC_DICT, "+= self.reg * W", "+= 2 * self.reg * W"),
                     ("loss += 0.5 * self.reg *", "loss += self.reg *")),
         loses=(CNN_G,), may_lose=(CNN_F,), feedback=(r"regulari[sz]",), feature="regularisation"),
    _bug("cnn_b1_regularised", "reg * b1 added to b1's gradient (not in the loss)",
         "cnn", edit(s.CNN_CLASSIC_DICT, ("        grads['W1'] += self.reg * W1\n",
                                          "        grads['W1'] += self.reg * W1\n"
                                          "        grads['b1'] += self.reg * b1\n")),
         loses=(CNN_G,), feedback=(r"b1",), feature="regularisation"),
    _bug("cnn_weight_scale_hard_coded", "the weights drawn with standard deviation 1e-2 whatever "
         "weight_scale says",
         "cnn", edit_all(s.CNN_CLASSIC_DICT, "np.random.normal(0, weight_scale,",
                         "np.random.normal(0, 1e-2,"),
         loses=(CNN_F,), may_lose=(CNN_G,), feedback=(r"weight_scale",)),
    _bug("cnn_w2_true_division", "W2 sized int(num_filters * H * W / 4) (wrong for odd sizes)",
         "cnn", edit(s.CNN_CLASSIC_DICT, ("(num_filters * H_pool * W_pool, hidden_dim)",
                                          "(int(num_filters * H * W / 4), hidden_dim)")),
         loses=(CNN_F,), may_lose=(CNN_G,), feedback=(r"W2",), confined_to=("odd_sizes",)),
    _bug("cnn_without_batchnorm", "no batchnorm at all: use_batchnorm ignored (no gamma, beta or "
         "bn_params, no batchnorm layers), right otherwise",
         "cnn", CNN_WITHOUT_BATCHNORM,
         loses=(CNN_F,), may_lose=(CNN_G,), feedback=(r"batch ?norm|gamma",), feature="batchnorm"),
    _bug("cnn_bn_mode_never_switched", "bn_param[mode] = mode (the mode key never set: test "
         "mode runs with batch statistics)",
         "cnn", edit(s.CNN_CLASSIC_DICT, ("bn_param['mode'] = mode", "bn_param[mode] = mode")),
         loses=(CNN_F,), feedback=(r"test mode|mode",), confined_to=("batchnorm",)),
    _bug("cnn_fresh_bn_dicts", "a new {'mode': mode} dict per call, so running statistics never "
         "persist",
         "cnn", edit(s.CNN_CLASSIC_DICT, ("self.bn_params['bn_param1'], pool_param)",
                                          "{'mode': mode}, pool_param)"),
                     ("self.bn_params['bn_param2'])", "{'mode': mode})")),
         loses=(CNN_F,), feedback=(r"running|bn_param",), confined_to=("batchnorm",)),
    _bug("cnn_backward_wrong_cache", "conv_relu_pool_backward given the hidden layer's cache "
         "(the backward raises; the forward is right)",
         "cnn", edit(s.CNN_CLASSIC_DICT, ("conv_relu_pool_backward(dout1, cache1)",
                                          "conv_relu_pool_backward(dout1, cache2)")),
         loses=(CNN_G,), may_lose=(CNN_T,),
         feedback=(r"cnn\.py.{0,80}line \d+|line \d+.{0,80}cnn\.py",)),
    _bug("cnn_test_scores_softmaxed", "loss(X) returns probabilities instead of scores",
         "cnn", edit(s.CNN_CLASSIC_DICT, (
             "        if y is None:\n            return scores\n",
             "        if y is None:\n            probs = np.exp(scores - scores.max(axis=1, keepdims=True))\n"
             "            return probs / probs.sum(axis=1, keepdims=True)\n")),
         loses=(CNN_F,), feedback=(r"scores",)),
]

VARIANTS = CORRECT + BUGS


def by_name(name):
    return next(v for v in VARIANTS if v.name == name)
