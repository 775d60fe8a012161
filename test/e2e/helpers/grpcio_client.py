"""Drives infera's gRPC endpoint with grpcio, the gRPC C-core that tritonclient.grpc uses.

The messages are built and read by the test (protobuf-es); this script only moves bytes, so it
needs grpcio and nothing generated. stdin: {"target": "host:port", "calls": [call, ...]}, each
call {"name", "method" ("/pkg.Service/Rpc"), "kind" ("unary" | "stream"), "requests": [base64],
"timeout_s"?, "gzip"?}. stdout: one JSON list, per call {"name", "code" (grpc.StatusCode name),
"details", "responses": [base64]}.
"""
import base64
import json
import sys

import grpc


def run(channel, call):
    kind = call["kind"]
    requests = [base64.b64decode(r) for r in call["requests"]]
    options = {"timeout": call.get("timeout_s")}
    if call.get("gzip"):
        options["compression"] = grpc.Compression.Gzip
    out = {"name": call["name"], "code": "OK", "details": "", "responses": []}
    try:
        if kind == "unary":
            rpc = channel.unary_unary(call["method"])
            out["responses"].append(base64.b64encode(rpc(requests[0], **options)).decode())
        elif kind == "stream":
            rpc = channel.stream_stream(call["method"])
            for response in rpc(iter(requests), **options):
                out["responses"].append(base64.b64encode(response).decode())
        else:
            raise ValueError("unknown kind " + kind)
    except grpc.RpcError as err:
        out["code"] = err.code().name
        out["details"] = err.details() or ""
    return out


def main():
    job = json.load(sys.stdin)
    # tritonclient.grpc lifts the 4 MiB receive limit the same way.
    unlimited = [("grpc.max_receive_message_length", 2**31 - 1), ("grpc.max_send_message_length", 2**31 - 1)]
    with grpc.insecure_channel(job["target"], options=unlimited) as channel:
        json.dump([run(channel, call) for call in job["calls"]], sys.stdout)


if __name__ == "__main__":
    main()
