# SPDX-License-Identifier: MIT
"""The original mini-tapbox Python API (``from pyminisandbox import
pyminitapbox``): the functions of :mod:`pyminisandbox.pyminisandbox`, over
libmini-tapbox, as the original's module was.

The difference is the original's: with no network call before start(), the
sandbox gets the unrestricted user-mode (tap) network, with the warning of
mini-tapbox(1) without -F; an allow call limits egress to what was allowed;
``mini_sandbox_share_network()`` shares the host's network.  Its
configuration and last error are its own (another library), as there.
"""
import types

from . import pyminisandbox as _base

_globals = dict(vars(_base))
_globals.update(_FLAVOUR="tapbox", __name__=__name__)

for _name in _base.__all__:
    _obj = getattr(_base, _name)
    if isinstance(_obj, types.FunctionType) and _obj.__module__ == _base.__name__:
        # The same code, looking its library up as "tapbox".
        _obj = types.FunctionType(_obj.__code__, _globals, _obj.__name__,
                                  _obj.__defaults__, _obj.__closure__)
        _obj.__module__ = __name__
    globals()[_name] = _obj

__all__ = list(_base.__all__)
del _name, _obj
