"""The server services of ``pb_utils``: Triton's Logger, custom metrics (MetricFamily and
Metric, exported on the server's /metrics) and model management from Python."""

import _infera_stub_handle


def _stub():
    return _infera_stub_handle.current


class Logger:
    """Writes to the server's log, tagged with the model (Triton's pb_utils.Logger)."""

    INFO = 0
    WARNING = 1
    ERROR = 2
    VERBOSE = 3
    _NAMES = {0: "INFO", 1: "WARNING", 2: "ERROR", 3: "VERBOSE"}

    @staticmethod
    def log(message, level=0):
        _stub().log(Logger._NAMES.get(level, "INFO"), str(message))

    @staticmethod
    def log_info(message):
        Logger.log(message, Logger.INFO)

    @staticmethod
    def log_warn(message):
        Logger.log(message, Logger.WARNING)

    @staticmethod
    def log_error(message):
        Logger.log(message, Logger.ERROR)

    @staticmethod
    def log_verbose(message):
        Logger.log(message, Logger.VERBOSE)


class MetricFamily:
    """A custom metric family exported on the server's /metrics (Triton's custom metrics)."""

    COUNTER = 0
    GAUGE = 1
    HISTOGRAM = 2

    def __init__(self, name, description, kind):
        if kind not in (MetricFamily.COUNTER, MetricFamily.GAUGE, MetricFamily.HISTOGRAM):
            raise _pb.TritonModelException("Unknown metric family kind")
        self._id = _stub().call("metric_family", {"name": name, "description": description, "kind": kind})
        self._kind = kind

    def Metric(self, labels=None, buckets=None):
        if self._kind == MetricFamily.HISTOGRAM and buckets is None:
            raise _pb.TritonModelException("Missing required buckets for histogram metrics")
        if self._kind != MetricFamily.HISTOGRAM and buckets is not None:
            raise _pb.TritonModelException("Unexpected buckets for non-histogram metrics")
        labels = dict(labels or {})
        for key, value in labels.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise _pb.TritonModelException("metric labels must map str to str")
        metric_id = _stub().call(
            "metric", {"family": self._id, "labels": labels, "buckets": list(buckets) if buckets else None}
        )
        return Metric(metric_id, self._kind)


class Metric:
    """One labelled metric of a MetricFamily."""

    def __init__(self, metric_id, kind):
        self._id = metric_id
        self._kind = kind

    def increment(self, value):
        if self._kind == MetricFamily.HISTOGRAM:
            raise _pb.TritonModelException("Failed to increment metric value. Metric kind is histogram.")
        _stub().call("metric_update", {"metric": self._id, "op": "increment", "value": float(value)})

    def set(self, value):
        if self._kind != MetricFamily.GAUGE:
            raise _pb.TritonModelException("Failed to set metric value. Metric kind is not gauge.")
        _stub().call("metric_update", {"metric": self._id, "op": "set", "value": float(value)})

    def observe(self, value):
        if self._kind != MetricFamily.HISTOGRAM:
            raise _pb.TritonModelException("Failed to observe metric value. Metric kind is not histogram.")
        _stub().call("metric_update", {"metric": self._id, "op": "observe", "value": float(value)})

    def value(self):
        return _stub().call("metric_value", {"metric": self._id})


def load_model(model_name, config="", files=None):
    """Loads (or reloads) a model of the repository (the repository extension's load)."""
    encoded = None
    if files is not None:
        import base64

        encoded = {key: base64.b64encode(bytes(value)).decode("ascii") for key, value in files.items()}
    _stub().call("load_model", {"model_name": model_name, "config": config, "files": encoded})


def unload_model(model_name, unload_dependents=False):
    _stub().call("unload_model", {"model_name": model_name, "unload_dependents": bool(unload_dependents)})


def is_model_ready(model_name, model_version=""):
    return bool(_stub().call("is_model_ready", {"model_name": model_name, "model_version": str(model_version)}))
