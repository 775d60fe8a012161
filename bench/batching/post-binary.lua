-- wrk script: POST one KServe v2 infer body in the binary tensor data extension.
-- BODY_FILE: the body (JSON header + raw tensor bytes); HEADER_LENGTH: bytes of the JSON header.
wrk.method = "POST"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
wrk.headers["Inference-Header-Content-Length"] = os.getenv("HEADER_LENGTH")
