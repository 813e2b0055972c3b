"""Reading the integer parameters of a layer (stride, pad, pool sizes) from its param dict.

Shared by the fast layers here and the naive layers of nndl, so both accept the same values
(3 and 3.0 alike: a stride computed by a division is a float) and refuse the others with the
same message.
"""
import operator


def whole_number(value, name):
    """
    value as an int if it is integral, else ValueError naming the parameter.

    Inputs:
    - value: an int, an integral float (3.0) or numpy scalar, or anything else (refused)
    - name: how the message names the parameter, e.g. "conv_param['pad']"

    Returns an int. Raises ValueError for 2.5, nan, inf, None, a string (even '3'), an array.
    """
    try:
        return operator.index(value)   # int, numpy integer (and bool, which is an int)
    except TypeError:
        pass
    try:
        if isinstance(value, (str, bytes)):   # float("3") would take it; a string is a slip
            raise TypeError
        as_float = float(value)
    except (TypeError, ValueError):
        raise ValueError("%s must be a whole number, got %r" % (name, value)) from None
    if not as_float.is_integer():   # also nan and inf
        raise ValueError("%s must be a whole number, got %r" % (name, value))
    return int(as_float)
