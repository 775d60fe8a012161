"""The stub's response messages to the server: what a model's execute returned, checked as
Triton's Python backend checks it, and each response with its outputs written into the
arena of its execution's slot (shm_io.OutputArena)."""

import json

import triton_python_backend_utils as pb_utils


def execute_result_messages(requests, result, decoupled, model_name, arenas):
    """The response messages of what execute returned; raises TritonModelException (every
    request of the execution then fails) for a return Triton refuses as a whole."""
    if result is None:
        if decoupled:
            return []
        return [
            error_message(request, "the model's execute returned None and sent no response for the request", arenas)
            for request in requests
            if not request._used_sender
        ]
    if decoupled:
        raise pb_utils.TritonModelException(
            f"Python model '{model_name}' is using the decoupled mode and the execute function must return None."
        )
    if not isinstance(result, list):
        raise pb_utils.TritonModelException(f"Expected a list in the execute return, found type '{type(result)}'.")
    if len(result) != len(requests):
        raise pb_utils.TritonModelException(
            "Number of InferenceResponse objects do not match the number of InferenceRequest objects. "
            f"InferenceRequest(s) size is:{len(requests)}, and InferenceResponse(s) size is:{len(result)}\n"
        )
    messages = []
    for request, response in zip(requests, result):
        if response is None:
            messages.append(error_message(request, "the model returned None as the response of a request", arenas))
        elif not isinstance(response, pb_utils.InferenceResponse):
            messages.append(error_message(request, f"Expected an InferenceResponse, found type '{type(response)}'.", arenas))
        else:
            messages.append(response_message(request, response, True, arenas))
    return messages


def error_message(request, message, arenas):
    return response_message(request, pb_utils.InferenceResponse(error=pb_utils.TritonError(message)), True, arenas)


def response_message(request, response, final, arenas):
    """One response of a request (or, with response None, its final flag alone)."""
    message = {"op": "response", "id": request._execution, "index": request._index, "final": final}
    if response is not None:
        error = response.error()
        if error is not None:
            code = error.code() if isinstance(error, pb_utils.TritonError) else pb_utils.TritonError.INTERNAL
            message["error"] = {"code": int(code), "message": str(error.message() if hasattr(error, "message") else error)}
        else:
            wanted = set(request.requested_output_names())
            tensors = [t for t in response.output_tensors() if t.name() in wanted]
            message["outputs"] = arenas[request._slot].write_all(tensors)
            params = response.parameters()
            if params != "{}":
                message["parameters"] = json.loads(params)
    return message
