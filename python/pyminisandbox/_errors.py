# SPDX-License-Identifier: MIT
"""Error codes and exceptions of pyminisandbox."""
from enum import IntEnum


class MiniSandboxErrors(IntEnum):
    """The library's error codes (same values as the original project), plus
    the Python-side ones below -1000."""
    NOERROR = 0
    INVALID_FUNCTIONING_MODE = -1
    SANDBOX_ROOT_NOT_UNIQUE = -2
    INVALID_FOLDER = -3
    OVERLAY_OPTION_NOT_SET = -4
    PATH_DOES_NOT_EXIST = -5
    NOT_AN_ABSOLUTE_PATH = -6
    LOG_FILE_NOT_UNIQUE = -7
    ILLEGAL_CONFIGURATION = -8
    FILE_READ_AND_WRITE = -9
    ILLEGAL_NETWORK_CONFIGURATION = -10
    TMP_NOT_MOUNTED = -11
    GENERAL_OS_ERROR = -100
    NESTED_SANDBOX = -201
    SANDBOX_ALREADY_STARTED = -202
    UNKNOWN = -1000
    LIB_NOT_LOADED = -1001
    FEATURE_NOT_AVAILABLE = -1002
    INVALID_ARG = -1003


class SandboxError(Exception):
    """A libminisandbox call failed.  ``code`` is the (negative) error code,
    ``message`` names the operation and the object."""

    def __init__(self, code, message):
        super().__init__("%s (error %d)" % (message, code))
        self.code = int(code)
        self.message = message

    @property
    def error(self):
        """The code as a MiniSandboxErrors member when it is a known one."""
        try:
            return MiniSandboxErrors(self.code)
        except ValueError:
            return self.code


class LibraryNotFoundError(SandboxError):
    """libminisandbox.so could not be loaded."""

    def __init__(self, message):
        super().__init__(MiniSandboxErrors.LIB_NOT_LOADED, message)


class UnsupportedPlatformError(SandboxError):
    """Not Linux: there is no sandbox to start here."""

    def __init__(self, message):
        super().__init__(MiniSandboxErrors.LIB_NOT_LOADED, message)
