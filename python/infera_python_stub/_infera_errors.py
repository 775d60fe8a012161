"""pb_utils' error types (re-exported by triton_python_backend_utils under Triton's names)."""


class TritonError(Exception):
    """An error a model returns in a response (or a BLS response carries): a message and one
    of Triton's error codes (INTERNAL when none is given)."""

    # TRITONSERVER_Error_Code values.
    UNKNOWN = 0
    INTERNAL = 1
    NOT_FOUND = 2
    INVALID_ARG = 3
    UNAVAILABLE = 4
    UNSUPPORTED = 5
    ALREADY_EXISTS = 6
    CANCELLED = 7

    def __init__(self, message, code=1):
        if message is None:
            raise TypeError("TritonError: message must not be None")
        super().__init__(message)
        self._message = str(message)
        self._code = code

    def message(self):
        return self._message

    def code(self):
        return self._code

    def __str__(self):
        return self._message


class TritonModelException(Exception):
    """Raised by models (and by this module) for errors in initialize, execute or finalize."""
