"""Describe an `nndl` package as JSON on stdout; run in a fresh interpreter.

    python -I describe_package.py ROOT [calls]

ROOT is the folder that holds the package `nndl` (the reference's solutions/
or a folder of generated stubs); it goes first on sys.path, so the two never
meet in one process. The description gives the package file, every module's
import error (if any) and public API (signatures and docstrings of functions,
classes and their methods). With `calls`, it also calls each graded function
once with small valid arguments and records what it raised.
"""
import importlib
import inspect
import json
import pkgutil
import sys
import traceback


def describe_function(fn):
    return {'signature': str(inspect.signature(fn)), 'doc': inspect.getdoc(fn)}


def describe_module(module):
    members = {}
    for name, obj in sorted(vars(module).items()):
        if name.startswith('_') or getattr(obj, '__module__', None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            members[name] = dict(kind='function', **describe_function(obj))
        elif inspect.isclass(obj):
            methods = {m: describe_function(f) for m, f in sorted(vars(obj).items())
                       if inspect.isfunction(f) and (not m.startswith('_') or m == '__init__')}
            members[name] = {'kind': 'class', 'signature': str(inspect.signature(obj)),
                             'doc': inspect.getdoc(obj), 'methods': methods}
    return {'doc': inspect.getdoc(module), 'members': members}


def graded_calls(np, modules):
    """(qualified owner, module name, thunk) reaching each graded region."""
    layers, conv = modules['layers'], modules['conv_layers']
    optim, cnn, fc = modules['optim'], modules['cnn'], modules['fc_net']
    x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.ones(4)
    img, filt = np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2))
    pool = {'pool_height': 2, 'pool_width': 2, 'stride': 2}

    def bare(cls, **attrs):
        """An instance whose __init__ never ran (it is a stub too)."""
        obj = object.__new__(cls)
        vars(obj).update(attrs)
        return obj

    cnn_params = {'W1': np.ones((2, 1, 3, 3)), 'b1': np.zeros(2), 'W2': np.ones((8, 3)),
                  'b2': np.zeros(3), 'W3': np.ones((3, 2)), 'b3': np.zeros(2)}
    return [
        ('affine_forward', 'layers', lambda: layers.affine_forward(x, w, b)),
        ('affine_backward', 'layers', lambda: layers.affine_backward(np.ones((2, 4)), (x, w, b))),
        ('relu_forward', 'layers', lambda: layers.relu_forward(x)),
        ('relu_backward', 'layers', lambda: layers.relu_backward(x, x)),
        ('batchnorm_forward', 'layers',
         lambda: layers.batchnorm_forward(x, np.ones(3), np.zeros(3), {'mode': 'train'})),
        ('batchnorm_forward', 'layers',
         lambda: layers.batchnorm_forward(x, np.ones(3), np.zeros(3), {'mode': 'test'})),
        ('batchnorm_backward', 'layers', lambda: layers.batchnorm_backward(x, None)),
        ('dropout_forward', 'layers',
         lambda: layers.dropout_forward(x, {'mode': 'train', 'p': 0.5})),
        ('dropout_forward', 'layers',
         lambda: layers.dropout_forward(x, {'mode': 'test', 'p': 0.5})),
        ('dropout_backward', 'layers',
         lambda: layers.dropout_backward(x, ({'mode': 'train', 'p': 0.5}, x))),
        ('dropout_backward', 'layers',
         lambda: layers.dropout_backward(x, ({'mode': 'test', 'p': 0.5}, None))),
        ('svm_loss', 'layers', lambda: layers.svm_loss(x, np.array([0, 1]))),
        ('softmax_loss', 'layers', lambda: layers.softmax_loss(x, np.array([0, 1]))),
        ('conv_forward_naive', 'conv_layers',
         lambda: conv.conv_forward_naive(img, filt, np.zeros(1), {'stride': 1, 'pad': 0})),
        ('conv_backward_naive', 'conv_layers',
         lambda: conv.conv_backward_naive(np.ones((1, 1, 3, 3)),
                                          (img, filt, np.zeros(1), {'stride': 1, 'pad': 0}))),
        ('max_pool_forward_naive', 'conv_layers', lambda: conv.max_pool_forward_naive(img, pool)),
        ('max_pool_backward_naive', 'conv_layers',
         lambda: conv.max_pool_backward_naive(np.ones((1, 1, 2, 2)), (img, pool))),
        ('spatial_batchnorm_forward', 'conv_layers',
         lambda: conv.spatial_batchnorm_forward(img, np.ones(1), np.zeros(1), {'mode': 'train'})),
        ('spatial_batchnorm_backward', 'conv_layers',
         lambda: conv.spatial_batchnorm_backward(img, None)),
        ('sgd', 'optim', lambda: optim.sgd(x, x)),
        ('sgd_momentum', 'optim', lambda: optim.sgd_momentum(x, x)),
        ('sgd_nesterov_momentum', 'optim', lambda: optim.sgd_nesterov_momentum(x, x)),
        ('rmsprop', 'optim', lambda: optim.rmsprop(x, x)),
        ('adam', 'optim', lambda: optim.adam(x, x)),
        ('ThreeLayerConvNet.__init__', 'cnn',
         lambda: cnn.ThreeLayerConvNet(input_dim=(1, 4, 4), num_filters=2, filter_size=3,
                                       hidden_dim=3, num_classes=2)),
        ('ThreeLayerConvNet.loss', 'cnn',
         lambda: bare(cnn.ThreeLayerConvNet, params=cnn_params, use_batchnorm=False,
                      bn_params=[], reg=0.0, dtype=np.float64).loss(np.ones((1, 1, 4, 4)))),
        ('TwoLayerNet.__init__', 'fc_net', lambda: fc.TwoLayerNet(input_dim=3, hidden_dims=2)),
        ('TwoLayerNet.loss', 'fc_net',
         lambda: bare(fc.TwoLayerNet, params={}, reg=0.0).loss(x)),
        ('FullyConnectedNet.__init__', 'fc_net',
         lambda: fc.FullyConnectedNet([2], input_dim=3, num_classes=2)),
        ('FullyConnectedNet.loss', 'fc_net',
         lambda: bare(fc.FullyConnectedNet, params={}, reg=0.0, num_layers=2,
                      use_batchnorm=False, use_dropout=False, dropout_param={}, bn_params=[],
                      dtype=np.float64).loss(x)),
    ]


def main():
    root = sys.argv[1]
    sys.path.insert(0, root)
    import numpy as np
    import nndl

    result = {'package_file': nndl.__file__, 'modules': {}, 'import_errors': {}}
    modules = {}
    for info in sorted(pkgutil.iter_modules(nndl.__path__), key=lambda i: i.name):
        if info.name.startswith('_'):  # private: no API (the reference's compiled kernels)
            continue
        try:
            module = importlib.import_module('nndl.' + info.name)
        except Exception:
            result['import_errors'][info.name] = traceback.format_exc()
            continue
        modules[info.name] = module
        result['modules'][info.name] = describe_module(module)
    result['modules']['__init__'] = describe_module(nndl)

    if len(sys.argv) > 2 and sys.argv[2] == 'calls':
        result['calls'] = []
        for owner, module_name, thunk in graded_calls(np, modules):
            try:
                thunk()
                outcome = {'raised': None, 'message': None}
            except Exception as error:  # record, do not judge: the test does
                outcome = {'raised': type(error).__name__, 'message': str(error)}
            result['calls'].append(dict(owner=owner, module=module_name, **outcome))
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
