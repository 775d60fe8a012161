"""One BLS request of the stub in flight (stub.py ``Stub.bls``)."""

import threading


class BlsCall:
    """One BLS request in flight: its responses arrive from the reader thread."""

    def __init__(self, stub, call_id, decoupled):
        self.stub = stub
        self.id = call_id
        self.decoupled = decoupled
        self.cond = threading.Condition()
        self.responses = []
        self.done = False

    def push(self, response, final):
        with self.cond:
            if response is not None:
                self.responses.append(response)
            if final:
                self.done = True
            self.cond.notify_all()

    def next_response(self):
        with self.cond:
            while not self.responses and not self.done:
                self.cond.wait()
            if self.responses:
                return self.responses.pop(0)
            return None

    def cancel(self):
        self.stub.send({"op": "bls_cancel", "call": self.id})
