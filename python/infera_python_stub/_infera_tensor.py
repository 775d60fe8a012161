"""pb_utils.Tensor (re-exported by triton_python_backend_utils under Triton's name): a named
tensor over a numpy array, as the model sees inputs and builds outputs."""

import numpy as np

from _infera_errors import TritonModelException
from _infera_types import _WIRE_TO_CODE, _wire_datatype


class _DLPackCapsule:
    """Lets numpy.from_dlpack read a bare DLPack capsule (CPU memory only)."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, stream=None, **_kwargs):
        return self._capsule

    def __dlpack_device__(self):
        return (1, 0)


# Wire datatype of the numeric numpy dtypes seen so far (filled by Tensor).
_NUMERIC_WIRE = {}


class Tensor:
    """A named tensor over a numpy array (BYTES tensors: numpy object arrays of bytes)."""

    def __init__(self, name, data, *_rest):
        if type(data) is not np.ndarray and not isinstance(data, np.ndarray):
            raise TritonModelException(f"tensor '{name}': expected a numpy array, got {type(data).__name__}")
        # The common case (a C-contiguous array of a numeric dtype seen before) is one dict
        # lookup: this runs for every output of every response.
        datatype = _NUMERIC_WIRE.get(data.dtype) if data.flags.c_contiguous else None
        if datatype is None:
            if data.dtype.type == np.bytes_:
                converted = np.empty(data.shape, dtype=np.object_)
                converted[...] = [bytes(x) for x in data.reshape(-1)] if data.size else []
                data = converted.reshape(data.shape)
            elif not data.flags.c_contiguous:
                data = np.ascontiguousarray(data)
            datatype = _wire_datatype(data)
            if datatype != "BYTES":
                _NUMERIC_WIRE[data.dtype] = datatype
        self._name = name
        self._array = data
        self._datatype = datatype

    @classmethod
    def _from_server(cls, name, array, datatype):
        """A tensor over an array the stub built from the server's bytes (already checked)."""
        tensor = cls.__new__(cls)
        tensor._name = name
        tensor._array = array
        tensor._datatype = datatype
        return tensor

    def name(self):
        return self._name

    def as_numpy(self):
        return self._array

    def triton_dtype(self):
        return _WIRE_TO_CODE[self._datatype]

    def shape(self):
        return list(self._array.shape)

    def is_cpu(self):
        return True

    def to_dlpack(self):
        if self._datatype == "BYTES":
            raise TritonModelException("DLPack does not support BYTES tensors")
        return self._array.__dlpack__()

    def __dlpack__(self, stream=None):
        return self.to_dlpack()

    def __dlpack_device__(self):
        return (1, 0)

    @staticmethod
    def from_dlpack(name, capsule):
        source = capsule if hasattr(capsule, "__dlpack__") else _DLPackCapsule(capsule)
        return Tensor(name, np.from_dlpack(source))
