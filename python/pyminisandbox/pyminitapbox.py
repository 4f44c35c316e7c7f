# SPDX-License-Identifier: MIT
"""The original mini-tapbox Python API (``from pyminisandbox import
pyminitapbox``): the same functions as :mod:`pyminisandbox.pyminisandbox`.

There is one library for both here.  The network follows from the calls made
before start(): any allow call gives the filtered user-mode network (egress
only to what was allowed), ``mini_sandbox_allow_all_domains()`` the
unfiltered one; with no network call the sandbox has no network.
"""
from .pyminisandbox import *  # noqa: F401,F403
from .pyminisandbox import __all__ as _all  # noqa: F401

__all__ = _all
