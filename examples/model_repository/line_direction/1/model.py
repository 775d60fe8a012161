"""line_direction: PaddleOCR's text direction pre-processing in numpy, then text_direction.

A Triton Python-backend model: each request holds one text line as RGB pixels (UINT8
[height, width, 3]); the model turns them into text_direction's input (FP32 [3, 48, 192]) as
PaddleOCR's classifier does, runs text_direction on the lines of all its requests through BLS
(in batches of at most text_direction's max_batch_size), and answers each request with the
line's angle (0 or 180) and its probability.
"""

import json

import numpy as np
import triton_python_backend_utils as pb_utils

HEIGHT = 48
WIDTH = 192
# text_direction's max_batch_size, and the labels of its two classes (labels.txt).
BATCH = 8
ANGLES = (0, 180)


def resize_bilinear(image, height, width):
    """``image`` (h, w, c) resized to (height, width, c) as FP32, sampling pixel centres
    (OpenCV's INTER_LINEAR, which PaddleOCR uses)."""
    in_h, in_w = image.shape[:2]
    ys = np.clip((np.arange(height) + 0.5) * (in_h / height) - 0.5, 0, in_h - 1)
    xs = np.clip((np.arange(width) + 0.5) * (in_w / width) - 0.5, 0, in_w - 1)
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(y0 + 1, in_h - 1)
    x1 = np.minimum(x0 + 1, in_w - 1)
    wy = (ys - y0).astype(np.float32)[:, None, None]
    wx = (xs - x0).astype(np.float32)[None, :, None]
    pixels = image.astype(np.float32)
    top = pixels[y0][:, x0] * (1 - wx) + pixels[y0][:, x1] * wx
    bottom = pixels[y1][:, x0] * (1 - wx) + pixels[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


def classifier_input(rgb):
    """PaddleOCR's ClsResizeImg for one line: height 48 keeping the aspect ratio, at most 192
    wide; BGR channels; (x / 255 - 0.5) / 0.5; CHW; zeros to the right up to 192."""
    h, w = rgb.shape[:2]
    width = min(WIDTH, int(np.ceil(HEIGHT * w / h)))
    resized = resize_bilinear(rgb[:, :, ::-1], HEIGHT, width)
    out = np.zeros((3, HEIGHT, WIDTH), dtype=np.float32)
    out[:, :, :width] = (resized / 255.0 - 0.5).transpose(2, 0, 1) / 0.5
    return out


class TritonPythonModel:
    def initialize(self, args):
        self.model_name = json.loads(args["model_config"])["name"]

    def execute(self, requests):
        responses = [None] * len(requests)
        lines = []
        for i, request in enumerate(requests):
            rgb = pb_utils.get_input_tensor_by_name(request, "PIXELS").as_numpy()
            if rgb.shape[0] == 0 or rgb.shape[1] == 0:
                responses[i] = pb_utils.InferenceResponse(
                    error=pb_utils.TritonError(
                        f"{self.model_name}: input 'PIXELS' must hold at least one pixel, got shape {list(rgb.shape)}",
                        pb_utils.TritonError.INVALID_ARG,
                    )
                )
                continue
            lines.append((i, classifier_input(rgb)))
        for start in range(0, len(lines), BATCH):
            chunk = lines[start : start + BATCH]
            batch = np.stack([x for _, x in chunk])
            result = pb_utils.InferenceRequest(
                model_name="text_direction",
                inputs=[pb_utils.Tensor("x", batch)],
                requested_output_names=["softmax_0.tmp_0"],
            ).exec()
            if result.has_error():
                for i, _ in chunk:
                    responses[i] = pb_utils.InferenceResponse(error=result.error())
                continue
            probs = pb_utils.get_output_tensor_by_name(result, "softmax_0.tmp_0").as_numpy()
            for (i, _), p in zip(chunk, probs):
                k = int(np.argmax(p))
                responses[i] = pb_utils.InferenceResponse(
                    [
                        pb_utils.Tensor("ANGLE", np.array([ANGLES[k]], dtype=np.int32)),
                        pb_utils.Tensor("CONFIDENCE", np.array([p[k]], dtype=np.float32)),
                    ]
                )
        return responses
