"""Tensor bytes between the server and the stub, through POSIX shared memory.

The server creates every object (under /dev/shm) and unlinks it; the stub maps them. A
tensor in a message is {name, datatype, shape, offset, size}: its bytes, little-endian and
row-major as on the wire (BYTES: 4-byte length + bytes per element), at ``offset``.
"""

import mmap
import os
import threading

import numpy as np

import triton_python_backend_utils as pb_utils

# Offsets of tensors in the output arena are multiples of this (numpy and DLPack like
# aligned buffers; the server's readers do not care).
ALIGN = 64


def _path(key):
    return "/dev/shm/" + key.lstrip("/")


def _map(key):
    fd = os.open(_path(key), os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        return mmap.mmap(fd, size), size
    finally:
        os.close(fd)


def _release(mapping):
    try:
        mapping.close()
    except BufferError:
        # numpy views of it are still alive (a model kept an input): the mapping goes with
        # the last of them; the object itself is already unlinked by the server.
        pass


class SharedMemoryMaps:
    """Mappings of server-owned objects, by key."""

    def __init__(self):
        self._maps = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            mapping = self._maps.get(key)
            if mapping is None:
                mapping, _ = _map(key)
                self._maps[key] = mapping
            return mapping

    def keys(self):
        with self._lock:
            return list(self._maps)

    def drop(self, key):
        with self._lock:
            mapping = self._maps.pop(key, None)
        if mapping is not None:
            _release(mapping)


def read_tensor(mapping, wire, copy=False):
    """The numpy array of a tensor in ``mapping``: a view of the shared bytes unless ``copy``.
    The server wrote the message: shape, offset and size are ints already."""
    datatype = wire["datatype"]
    dtype = pb_utils._WIRE_TO_NUMPY.get(datatype)
    size = wire["size"]
    if datatype == "BYTES":
        shape = wire["shape"]
        if size == 0:
            return np.empty(shape, dtype=np.object_)
        offset = wire["offset"]
        with memoryview(mapping) as view:
            items = pb_utils.deserialize_bytes_tensor(view[offset : offset + size])
        return items.reshape(shape)
    if dtype is None:
        raise pb_utils.TritonModelException(f"tensor '{wire['name']}': datatype {datatype} has no numpy type")
    if size == 0:
        return np.empty(wire["shape"], dtype=dtype)
    array = np.ndarray(wire["shape"], dtype=dtype, buffer=mapping, offset=wire["offset"])
    return array.copy() if copy else array


def _payload(tensor):
    """The bytes of a tensor as the server reads them: the array itself where it already is
    little-endian and C-contiguous (Tensor makes numeric arrays contiguous), else a copy."""
    array = tensor._array
    if tensor._datatype == "BYTES":
        data = pb_utils.serialize_byte_tensor(array)
        return bytes(data) if data else b""
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    return array


class OutputArena:
    """The shared-memory object of one slot the stub writes outputs (and BLS inputs) into: a
    bump allocator reset at each execute in its slot, since the server has read every earlier
    message of the slot's previous execution by then.
    When full, the stub asks the server for a larger object (it has read every earlier
    message when it answers, so the old one can go)."""

    def __init__(self, stub, key, size):
        self._stub = stub
        self._lock = threading.Lock()
        self._key = key
        self._mapping, self._size = _map(key)
        self._offset = 0

    @property
    def key(self):
        return self._key

    def reset(self):
        with self._lock:
            self._offset = 0

    def write_all(self, tensors):
        payloads = [_payload(t) for t in tensors]
        needed = 0
        for payload in payloads:
            needed += payload.nbytes + ALIGN if type(payload) is np.ndarray else len(payload) + ALIGN
        with self._lock:
            if self._offset + needed > self._size:
                reply = self._stub.call("grow_arena", {"size": needed, "key": self._key})
                if reply["key"] != self._key:
                    _release(self._mapping)
                    self._key = reply["key"]
                    self._mapping, self._size = _map(self._key)
                self._offset = 0
            wires = []
            mapping = self._mapping
            key = self._key
            for tensor, payload in zip(tensors, payloads):
                offset = self._offset
                size = payload.nbytes if type(payload) is np.ndarray else len(payload)
                if size:
                    # One memcpy from the array's buffer into the mapping.
                    mapping[offset : offset + size] = payload
                self._offset = (offset + size + ALIGN - 1) // ALIGN * ALIGN
                wires.append(
                    {
                        "name": tensor._name,
                        "datatype": tensor._datatype,
                        "shape": list(tensor._array.shape),
                        "offset": offset,
                        "size": size,
                        "shm": key,
                    }
                )
            return wires
