"""The process that runs one instance of a Triton Python-backend model for infera.

The server starts one stub per model instance (and a short-lived one to auto-complete a
config). Control messages are JSON lines: the server writes work (initialize, execute,
finalize) to fd 3, which the main thread reads itself, and answers to the stub's calls,
cancellations and readiness checks to fd 5, which a reader thread reads while the main
thread runs the model; the stub writes to fd 4.
Tensor bytes never travel in them: inputs are read from a shared-memory object the server
wrote (POSIX shm under /dev/shm, mapped here with mmap); outputs are written into a
shared-memory object the server created for this stub (the output arena) and the message
only says where. The server may send the next executions while one runs (up to one per
slot, each slot a pair of input and output arenas); they wait in the work channel and run
one at a time, in order. See src/backends/python/ for the server side.
"""

import asyncio
import importlib
import inspect
import json
import os
import sys
import threading
import time
import traceback

def _fail_startup(kind, message):
    try:
        with os.fdopen(4, "wb") as out:
            out.write((json.dumps({"op": "init_error", "kind": kind, "message": message}) + "\n").encode())
    finally:
        os._exit(3)


try:
    import numpy as np
except ImportError as exc:  # the server turns this into an install hint
    _fail_startup("numpy", f"{exc}")

import _infera_stub_handle  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402
from _infera_bls import BlsCall  # noqa: E402
from _infera_responses import execute_result_messages, response_message  # noqa: E402
from shm_io import OutputArena, SharedMemoryMaps, read_tensor  # noqa: E402


def _format_exception(exc):
    """Triton's form of a Python error: 'Type: message' then the traceback."""
    frames = traceback.format_tb(exc.__traceback__)
    head = f"{type(exc).__name__}: {exc}"
    return head + ("\n\nAt:\n" + "".join(frames) if frames else "")


class Stub:
    def __init__(self):
        self._in = os.fdopen(3, "rb")
        self._side = os.fdopen(5, "rb")
        self._out = os.fdopen(4, "wb")
        self._write_lock = threading.Lock()
        self._calls = {}
        self._calls_lock = threading.Lock()
        self._next_call = 1
        # Cancellations that arrived before their execution (the channels are independent).
        self._early_cancels = set()
        self._cancel_lock = threading.Lock()
        # BLS responses (one object each) and the input arenas (replaced when they grow).
        self.maps = SharedMemoryMaps()
        self.input_maps = SharedMemoryMaps()
        # One slot per execution the server may have sent ahead: its output arena and the
        # key of its input arena. ``arena`` is the slot of the execution last taken up (BLS
        # inputs go there).
        self.arenas = []
        self.arena = None
        self._input_keys = []
        self.decoupled = False
        self.model = None
        self.name = ""
        # The requests of each execution still in a slot, by id (for cancellations).
        self._executions = {}
        self._slot_execution = []
        self._loop = None

    # -- channel ---------------------------------------------------------------------------

    def send(self, message):
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        with self._write_lock:
            self._out.write(data)
            self._out.flush()

    def call(self, method, args):
        """A request to the server that waits for its reply; raises TritonModelException."""
        with self._calls_lock:
            call_id = self._next_call
            self._next_call += 1
            slot = {"event": threading.Event()}
            self._calls[call_id] = slot
        self.send({"op": "call", "call": call_id, "method": method, "args": args})
        slot["event"].wait()
        if slot.get("error") is not None:
            raise pb_utils.TritonModelException(slot["error"])
        return slot.get("result")

    def _reader(self):
        for line in self._side:
            msg = json.loads(line)
            op = msg["op"]
            if op == "reply":
                with self._calls_lock:
                    slot = self._calls.pop(msg["call"], None)
                if slot is not None:
                    slot["result"] = msg.get("result")
                    slot["error"] = msg.get("error")
                    slot["event"].set()
            elif op == "bls_response":
                self._on_bls_response(msg)
            elif op == "is_ready":
                # Off the execute thread, as in Triton: a readiness check does not wait for
                # an execution in progress.
                threading.Thread(target=self._is_ready, args=(msg,), daemon=True).start()
            elif op == "cancel":
                with self._cancel_lock:
                    ex = self._executions.get(msg["id"])
                    if ex is None:
                        self._early_cancels.add((msg["id"], msg["index"]))
                    elif 0 <= msg["index"] < len(ex):
                        ex[msg["index"]]._cancelled = True
        self._channel_closed()

    def _channel_closed(self):
        # The server closed the channel: it is unloading us without finalize, or it died. A
        # server that died (SIGKILL) could not unlink the shared-memory objects it made for us:
        # unlinking them here leaves nothing behind in /dev/shm either way.
        known = [*(a.key for a in self.arenas), *self._input_keys, *self.input_maps.keys(), *self.maps.keys()]
        for key in known:
            if key:
                try:
                    os.unlink("/dev/shm/" + key.lstrip("/"))
                except OSError:
                    pass
        os._exit(0)

    def _next_work(self):
        line = self._in.readline()
        if not line:
            self._channel_closed()
        return json.loads(line)

    # -- model -----------------------------------------------------------------------------

    def _import_model(self, model_file):
        version_dir = os.path.dirname(model_file)
        model_dir = os.path.dirname(version_dir)
        sys.path.append(version_dir)
        sys.path.append(model_dir)
        stem = os.path.splitext(os.path.basename(model_file))[0]
        module = importlib.import_module(f"{os.path.basename(version_dir)}.{stem}")
        cls = getattr(module, "TritonPythonModel", None)
        if cls is None:
            raise pb_utils.TritonModelException(f"'{model_file}' does not define class TritonPythonModel")
        return cls

    def _run(self, result):
        """The value of a model hook, awaiting it on the stub's event loop when a coroutine."""
        if inspect.iscoroutine(result):
            return asyncio.run_coroutine_threadsafe(result, self._loop).result()
        return result

    def _start_loop(self):
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="asyncio", daemon=True).start()

    def autocomplete(self, msg):
        try:
            cls = self._import_model(msg["model_file"])
            config = pb_utils.ModelConfig(msg["config"])
            hook = getattr(cls, "auto_complete_config", None)
            if hook is not None:
                config = hook(config)
                if not isinstance(config, pb_utils.ModelConfig):
                    raise pb_utils.TritonModelException(
                        "auto_complete_config function in model '"
                        + msg["name"]
                        + "' must return a valid pb_utils.ModelConfig object."
                    )
            self.send({"op": "autocompleted", "config": config.as_dict()})
        except BaseException as exc:  # noqa: BLE001  the load fails with it
            self.send({"op": "init_error", "kind": "autocomplete", "message": _format_exception(exc)})

    def initialize(self, msg):
        self.name = msg["args"]["model_name"]
        self.decoupled = bool(msg["decoupled"])
        self.arenas = [OutputArena(self, a["key"], a["size"]) for a in msg["arenas"]]
        self.arena = self.arenas[0]
        self._input_keys = list(msg["input_arenas"])
        self._slot_execution = [None] * len(self.arenas)
        self._start_loop()
        try:
            cls = self._import_model(msg["model_file"])
            self.model = cls()
            if hasattr(self.model, "initialize"):
                self._run(self.model.initialize(dict(msg["args"])))
        except BaseException as exc:  # noqa: BLE001
            self.send({"op": "init_error", "kind": "initialize", "message": _format_exception(exc)})
            return False
        self.send({"op": "ready", "is_ready": hasattr(self.model, "is_ready")})
        return True

    def serve(self):
        threading.Thread(target=self._reader, name="reader", daemon=True).start()
        first = self._next_work()
        if first["op"] == "autocomplete":
            self.autocomplete(first)
            return
        if not self.initialize(first):
            return
        while True:
            msg = self._next_work()
            op = msg["op"]
            if op == "execute":
                self.execute(msg)
            elif op == "finalize":
                self._finalize()
                return

    def _is_ready(self, msg):
        try:
            ready = bool(self._run(self.model.is_ready()))
            self.send({"op": "ready_result", "call": msg["call"], "ready": ready})
        except BaseException as exc:  # noqa: BLE001
            self.send({"op": "ready_result", "call": msg["call"], "ready": False, "error": _format_exception(exc)})

    def _finalize(self):
        error = None
        try:
            if hasattr(self.model, "finalize"):
                self._run(self.model.finalize())
        except BaseException as exc:  # noqa: BLE001
            error = _format_exception(exc)
        self.send({"op": "finalized", "error": error})

    # -- execute ---------------------------------------------------------------------------

    def _make_request(self, wire, mapping, execution_id, slot, index):
        inputs = [pb_utils.Tensor._from_server(t["name"], read_tensor(mapping, t), t["datatype"]) for t in wire["inputs"]]
        # The server's parameters are valid already: no check, kept as Triton's JSON string.
        params = wire.get("parameters")
        request = pb_utils.InferenceRequest._from_server(
            wire.get("id", ""),
            wire.get("correlation_id", 0),
            inputs,
            wire["outputs"],
            self.name,
            wire.get("flags", 0),
            wire.get("timeout", 0),
            json.dumps(params) if params else "{}",
        )
        request._execution = execution_id
        request._index = index
        request._slot = slot
        return request

    def execute(self, msg):
        execution_id = msg["id"]
        slot = msg.get("slot", 0)
        # The server sends an execution into a slot only after the one before in that slot
        # ended and its outputs were copied out: the slot's arenas are free.
        self.arena = self.arenas[slot]
        self.arena.reset()
        mapping = None
        key = msg.get("shm")
        if key:
            if key != self._input_keys[slot]:
                # The server replaced the slot's input arena with a larger one.
                self.input_maps.drop(self._input_keys[slot])
                self._input_keys[slot] = key
            mapping = self.input_maps.get(key)
        requests = [self._make_request(r, mapping, execution_id, slot, i) for i, r in enumerate(msg["requests"])]
        # Every request of the slot's previous execution got its final response, so it can no
        # longer be cancelled. Decoupled requests stay here after execute returns: their
        # senders may still be answering them.
        with self._cancel_lock:
            self._executions.pop(self._slot_execution[slot], None)
            self._slot_execution[slot] = execution_id
            self._executions[execution_id] = requests
            if self._early_cancels:
                # Executions run in id order: cancellations of later ones stay for them.
                for ex_id, index in self._early_cancels:
                    if ex_id == execution_id and 0 <= index < len(requests):
                        requests[index]._cancelled = True
                self._early_cancels = {c for c in self._early_cancels if c[0] > execution_id}
        started = time.perf_counter_ns()
        error = None
        responses = []
        try:
            result = self._run(self.model.execute(requests))
            responses = self._answer(requests, result)
        except BaseException as exc:  # noqa: BLE001  every request of the batch fails
            error = f"Failed to process the request(s) for model '{self.name}', message: {_format_exception(exc)}"
        # The responses execute returned ride with the end of the execution: one message.
        done = {"op": "done", "id": execution_id, "error": error, "ns": time.perf_counter_ns() - started}
        if responses:
            done["responses"] = responses
        self.send(done)

    def _answer(self, requests, result):
        return execute_result_messages(requests, result, self.decoupled, self.name, self.arenas)

    def send_response(self, request, response, final):
        """Sends one response (or, with response None, the final flag alone) of a request."""
        self.send(response_message(request, response, final, self.arenas))

    # -- BLS -------------------------------------------------------------------------------

    def bls(self, request, decoupled):
        with self._calls_lock:
            call_id = self._next_call
            self._next_call += 1
            call = BlsCall(self, call_id, decoupled)
            self._calls[call_id] = call
        wire = {
            "model_name": request._model_name,
            "model_version": request._model_version,
            "inputs": self.arena.write_all(request.inputs()),
            "outputs": request.requested_output_names(),
            "id": request.request_id(),
            "correlation_id": request.correlation_id(),
            "flags": request.flags(),
            "timeout": request.timeout(),
            "parameters": json.loads(request.parameters()),
        }
        self.send({"op": "bls", "call": call_id, "decoupled": decoupled, "request": wire})
        if decoupled:
            return pb_utils.ResponseIterator(call)
        response = call.next_response()
        # Drain: a non-decoupled request ends with its one response.
        return response if response is not None else pb_utils.InferenceResponse()

    def _on_bls_response(self, msg):
        with self._calls_lock:
            call = self._calls.get(msg["call"])
            if msg.get("final") and call is not None:
                self._calls.pop(msg["call"], None)
        response = None
        if msg.get("error") is not None:
            response = pb_utils.InferenceResponse(
                error=pb_utils.TritonError(msg["error"]["message"], msg["error"]["code"])
            )
        elif msg.get("outputs") is not None:
            mapping = self.maps.get(msg["shm"]) if msg.get("shm") else None
            # Copies: the server frees the object once this message is read.
            tensors = [pb_utils.Tensor(t["name"], read_tensor(mapping, t, copy=True)) for t in msg["outputs"]]
            response = pb_utils.InferenceResponse(tensors, parameters=msg.get("parameters") or None)
        elif call is not None and call.decoupled and msg.get("final"):
            response = pb_utils.InferenceResponse()
        if msg.get("shm"):
            self.maps.drop(msg["shm"])
            self.send({"op": "bls_release", "shm": msg["shm"]})
        if call is not None:
            call.push(response, bool(msg.get("final")))

    def log(self, level, message):
        self.send({"op": "log", "level": level, "message": message})


def main():
    stub = Stub()
    _infera_stub_handle.current = stub
    stub.serve()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
