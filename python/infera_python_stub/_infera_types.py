"""Triton's data types in numpy terms, and the BYTES tensor (de)serialization of ``pb_utils``."""

import struct

import numpy as np

from _infera_errors import TritonModelException

# Triton's TRITONSERVER_DataType values, wire names and numpy types.
_TYPES = [
    # (TRITONSERVER_DataType, wire name, config name, numpy type)
    (1, "BOOL", "TYPE_BOOL", np.bool_),
    (2, "UINT8", "TYPE_UINT8", np.uint8),
    (3, "UINT16", "TYPE_UINT16", np.uint16),
    (4, "UINT32", "TYPE_UINT32", np.uint32),
    (5, "UINT64", "TYPE_UINT64", np.uint64),
    (6, "INT8", "TYPE_INT8", np.int8),
    (7, "INT16", "TYPE_INT16", np.int16),
    (8, "INT32", "TYPE_INT32", np.int32),
    (9, "INT64", "TYPE_INT64", np.int64),
    (10, "FP16", "TYPE_FP16", np.float16),
    (11, "FP32", "TYPE_FP32", np.float32),
    (12, "FP64", "TYPE_FP64", np.float64),
    (13, "BYTES", "TYPE_STRING", np.object_),
]
_WIRE_TO_NUMPY = {t[1]: t[3] for t in _TYPES}
_CODE_TO_WIRE = {t[0]: t[1] for t in _TYPES}
_WIRE_TO_CODE = {t[1]: t[0] for t in _TYPES}

TRITON_STRING_TO_NUMPY = {t[2]: (bool if t[3] is np.bool_ else t[3]) for t in _TYPES}


def triton_to_numpy_type(data_type):
    """The numpy type of a TRITONSERVER_DataType value (None when it has none)."""
    for code, _, _, np_type in _TYPES:
        if code == data_type:
            return np_type
    return None


def numpy_to_triton_type(data_type):
    """The TRITONSERVER_DataType value of a numpy type (None when Triton has none)."""
    if data_type == np.bytes_:
        return 13
    for code, _, _, np_type in _TYPES:
        if data_type == np_type:
            return code
    return None


def triton_string_to_numpy(triton_type_string):
    """The numpy type of a config data type name such as 'TYPE_FP32'."""
    return TRITON_STRING_TO_NUMPY[triton_type_string]


# Wire datatype by (numpy kind, item size): one lookup per tensor, any byte order.
_KIND_SIZE_TO_WIRE = {(np.dtype(t[3]).kind, np.dtype(t[3]).itemsize): t[1] for t in _TYPES if t[1] != "BYTES"}


def _wire_datatype(array):
    dtype = array.dtype
    kind = dtype.kind
    if kind == "O" or kind == "S":
        return "BYTES"
    wire = _KIND_SIZE_TO_WIRE.get((kind, dtype.itemsize))
    if wire is None:
        raise TritonModelException(f"unsupported numpy data type {dtype} for a Triton tensor")
    return wire


def serialize_byte_tensor(input_tensor):
    """BYTES elements of ``input_tensor`` in row-major order, each as a 4-byte little-endian
    length and its bytes (str elements as UTF-8, other objects as their str()). Returns ()
    for an empty tensor and None for a tensor that is not object/bytes typed."""
    if input_tensor.size == 0:
        return ()
    if input_tensor.dtype != np.object_ and input_tensor.dtype.type != np.bytes_:
        return None
    parts = []
    for item in input_tensor.reshape(-1, order="C"):
        if isinstance(item, np.generic):
            item = item.item()
        if isinstance(item, (bytes, bytearray)):
            data = bytes(item)
        else:
            data = str(item).encode("utf-8")
        parts.append(struct.pack("<I", len(data)))
        parts.append(data)
    return b"".join(parts)


def deserialize_bytes_tensor(encoded_tensor):
    """The inverse of serialize_byte_tensor: a 1-D numpy object array of bytes."""
    view = memoryview(encoded_tensor)
    items = []
    offset = 0
    end = len(view)
    while offset < end:
        (length,) = struct.unpack_from("<I", view, offset)
        offset += 4
        items.append(bytes(view[offset : offset + length]))
        offset += length
    result = np.empty(len(items), dtype=np.object_)
    result[:] = items
    return result
