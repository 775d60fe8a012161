"""infera's implementation of Triton's ``triton_python_backend_utils`` (``pb_utils``).

A Triton Python-backend ``model.py`` imports this module by Triton's name and finds the same
API: tensors, requests, responses, the response sender, errors, BLS, the logger, custom
metrics, model management and the auto-complete ``ModelConfig``. Everything that talks to
the server goes through ``_infera_stub_handle.current`` (set by ``stub.py``, the process that runs the model).
"""

import asyncio
import json
import threading

import numpy as np

# The process's link to the server (stub.Stub); None only while the module is imported
# outside a stub (unit tests of the pure helpers).
import _infera_stub_handle

TRITONSERVER_REQUEST_FLAG_SEQUENCE_START = 1
TRITONSERVER_REQUEST_FLAG_SEQUENCE_END = 2
TRITONSERVER_RESPONSE_COMPLETE_FINAL = 1
TRITONSERVER_REQUEST_RELEASE_ALL = 1
TRITONSERVER_REQUEST_RELEASE_RESCHEDULE = 2
TRITONSERVER_MEMORY_CPU = 0
TRITONSERVER_MEMORY_GPU = 2

from _infera_types import (  # noqa: F401  (Triton's names, re-exported)
    TRITON_STRING_TO_NUMPY,
    _CODE_TO_WIRE,
    _WIRE_TO_CODE,
    _WIRE_TO_NUMPY,
    _wire_datatype,
    deserialize_bytes_tensor,
    numpy_to_triton_type,
    serialize_byte_tensor,
    triton_string_to_numpy,
    triton_to_numpy_type,
)
from _infera_errors import TritonError, TritonModelException  # noqa: F401  (re-exported)
from _infera_tensor import Tensor  # noqa: F401  (re-exported)


class PreferredMemory:
    """Where BLS outputs should be placed; infera keeps them in CPU memory."""

    def __init__(self, preferred_memory_type, preferred_device_id=0):
        self.preferred_memory_type = preferred_memory_type
        self.preferred_device_id = preferred_device_id


class InferenceTrace:
    def get_context(self):
        return None


_NO_TRACE = InferenceTrace()


def _text(value):
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else value


def _parameters_json(parameters):
    if parameters is None:
        return "{}"
    if not isinstance(parameters, dict):
        raise TritonModelException("parameters must be a dictionary")
    for key, value in parameters.items():
        if not isinstance(key, str):
            raise TritonModelException("Expect parameters keys to have type str, found type " + type(key).__name__)
        if not isinstance(value, (bool, int, str)):
            raise TritonModelException(
                "Expect parameters values to have type bool/int/str, found type " + type(value).__name__
            )
    return json.dumps(parameters)


class InferenceResponse:
    """A response: output tensors, or an error; optional parameters (bool/int/str values)."""

    def __init__(self, output_tensors=None, error=None, parameters=None):
        self._outputs = list(output_tensors) if output_tensors is not None else []
        self._error = error
        self._parameters = "{}" if parameters is None else _parameters_json(parameters)

    def output_tensors(self):
        return self._outputs

    def has_error(self):
        return self._error is not None

    def error(self):
        return self._error

    def parameters(self):
        return self._parameters


class InferenceResponseSender:
    """Sends the responses of one request (decoupled models, and default models since 24.06)."""

    def __init__(self, request, decoupled):
        self._request = request
        self._decoupled = decoupled
        self._closed = False
        self._sent = 0
        self._lock = threading.Lock()

    def send(self, response=None, flags=0):
        if flags not in (0, TRITONSERVER_RESPONSE_COMPLETE_FINAL):
            raise TritonModelException("Unable to send response. Unsupported flag provided.")
        with self._lock:
            if self._closed:
                raise TritonModelException("Unable to send response. Response sender has been closed.")
            if not self._decoupled:
                if response is not None and self._sent > 0:
                    raise TritonModelException(
                        "Unable to send response. Non-decoupled model cannot send more than one response."
                    )
                if response is None and flags == TRITONSERVER_RESPONSE_COMPLETE_FINAL and self._sent == 0:
                    raise TritonModelException(
                        "Unable to send response. Non-decoupled model cannot send complete final before sending a response."
                    )
            if response is not None:
                self._sent += 1
            final = flags == TRITONSERVER_RESPONSE_COMPLETE_FINAL
            if final:
                self._closed = True
        self._request._used_sender = True
        _infera_stub_handle.current.send_response(self._request, response, final)

    def is_cancelled(self):
        return self._request.is_cancelled()


class InferenceRequest:
    """An inference request: one the model is given in ``execute``, or one the model builds
    for BLS (``exec`` / ``async_exec`` run it on another model of the server)."""

    def __init__(
        self,
        request_id="",
        correlation_id=0,
        inputs=None,
        requested_output_names=None,
        model_name=None,
        model_version=-1,
        flags=0,
        timeout=0,
        preferred_memory=None,
        trace=None,
        parameters=None,
    ):
        if inputs is None or requested_output_names is None or model_name is None:
            raise TypeError("InferenceRequest needs inputs, requested_output_names and model_name")
        if not isinstance(correlation_id, (int, str)):
            raise TritonModelException("Correlation ID must be integer or string")
        # Triton's binding takes bytes where it wants str (a model name read from a BYTES tensor).
        self._request_id = _text(request_id)
        self._correlation_id = correlation_id
        self._inputs = list(inputs)
        self._requested = [_text(n) for n in requested_output_names]
        self._model_name = _text(model_name)
        self._model_version = model_version
        self._flags = flags
        self._timeout = timeout
        self._parameters = _parameters_json(parameters)
        self._trace = trace if trace is not None else InferenceTrace()
        # Set for requests the server hands to execute (stub.py).
        self._execution = None
        self._index = -1
        self._sender = None
        self._used_sender = False
        self._cancelled = False
        self._release_flags = TRITONSERVER_REQUEST_RELEASE_ALL

    @classmethod
    def _from_server(cls, request_id, correlation_id, inputs, requested, model_name, flags, timeout, parameters_json):
        """A request the server hands to execute: its fields are valid already, so none is
        checked or converted (this runs for every request)."""
        request = cls.__new__(cls)
        request._request_id = request_id
        request._correlation_id = correlation_id
        request._inputs = inputs
        request._requested = requested
        request._model_name = model_name
        request._model_version = -1
        request._flags = flags
        request._timeout = timeout
        request._parameters = parameters_json
        request._trace = _NO_TRACE
        request._execution = None
        request._index = -1
        request._sender = None
        request._used_sender = False
        request._cancelled = False
        request._release_flags = TRITONSERVER_REQUEST_RELEASE_ALL
        return request

    def inputs(self):
        return self._inputs

    def requested_output_names(self):
        return self._requested

    def request_id(self):
        return self._request_id

    def correlation_id(self):
        return self._correlation_id

    def flags(self):
        return self._flags

    def set_flags(self, flags):
        self._flags = flags

    def timeout(self):
        return self._timeout

    def parameters(self):
        return self._parameters

    def trace(self):
        return self._trace

    def model_name(self):
        return self._model_name

    def is_cancelled(self):
        return self._cancelled

    def set_release_flags(self, flags):
        if flags == TRITONSERVER_REQUEST_RELEASE_RESCHEDULE:
            raise TritonModelException("Request rescheduling is not supported by infera's Python backend")
        self._release_flags = flags

    def get_response_sender(self):
        if self._execution is None:
            raise TritonModelException("get_response_sender is only available on requests given to execute")
        if self._sender is None:
            self._sender = InferenceResponseSender(self, _infera_stub_handle.current.decoupled)
        return self._sender

    def exec(self, decoupled=False):
        """Runs the request on the server and waits: an InferenceResponse (its error set on
        failure), or with decoupled=True a ResponseIterator over the responses."""
        return _infera_stub_handle.current.bls(self, decoupled)

    def async_exec(self, decoupled=False):
        """exec() in the running event loop's executor: an awaitable of its result."""
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(None, lambda: _infera_stub_handle.current.bls(self, decoupled))


class ResponseIterator:
    """The responses of a BLS request on a decoupled model, ending after the final one (a
    final response without outputs is yielded as an empty response, as Triton does)."""

    def __init__(self, call):
        self._call = call

    def __iter__(self):
        return self

    def __next__(self):
        response = self._call.next_response()
        if response is None:
            raise StopIteration
        return response

    def cancel(self):
        self._call.cancel()


def get_input_tensor_by_name(inference_request, name):
    """The input tensor called ``name`` of a request, or None."""
    for tensor in inference_request.inputs():
        if tensor.name() == name:
            return tensor
    return None


def get_output_tensor_by_name(inference_response, name):
    """The output tensor called ``name`` of a response, or None."""
    for tensor in inference_response.output_tensors():
        if tensor.name() == name:
            return tensor
    return None


def get_input_config_by_name(model_config, name):
    """The config entry (dict) of input ``name`` in a model config dict, or None."""
    return next((i for i in model_config.get("input", []) if i["name"] == name), None)


def get_output_config_by_name(model_config, name):
    """The config entry (dict) of output ``name`` in a model config dict, or None."""
    return next((o for o in model_config.get("output", []) if o["name"] == name), None)


def using_decoupled_model_transaction_policy(model_config):
    """Whether a model config dict sets model_transaction_policy { decoupled: true }."""
    return bool(model_config.get("model_transaction_policy", {}).get("decoupled", False))


# Re-exported under Triton's names.
from _infera_model_config import ModelConfig  # noqa: E402,F401
from _infera_services import Logger, Metric, MetricFamily, is_model_ready, load_model, unload_model  # noqa: E402,F401
