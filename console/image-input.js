// Image files for "try it": as encoded bytes (a BYTES input such as the `ocr` ensemble's IMAGE,
// sent as base64 text, which its preprocess step accepts) or as a [3, H, W] FP32 tensor read the
// way the PP-OCR models are fed (examples/ocr/src/recognition.ts): height H, aspect kept, BGR,
// (x / 255 - 0.5) / 0.5, right-padded with zeros to a fixed W.

/** The file's bytes as base64 text. */
export async function fileToBase64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * An image as a CHW tensor of `height` x `width` (either may be -1: then it follows the image,
 * keeping its aspect ratio); a fixed width pads (or squeezes) the resized image into it.
 * Returns {data: number[], shape: [3, H, W]}.
 */
export async function imageToChw(file, height, width) {
  const bitmap = await createImageBitmap(file);
  const h = height > 0 ? height : bitmap.height;
  const natural = Math.max(1, Math.ceil((h * bitmap.width) / bitmap.height));
  const w = width > 0 ? width : natural;
  const drawn = Math.min(w, natural);
  const canvas = new OffscreenCanvas(drawn, h);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0, drawn, h);
  const rgba = ctx.getImageData(0, 0, drawn, h).data;
  const plane = h * w;
  const data = new Array(3 * plane).fill(0);
  for (let c = 0; c < 3; c++) {
    const src = 2 - c; // BGR
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < drawn; x++) data[c * plane + y * w + x] = rgba[(y * drawn + x) * 4 + src] / 127.5 - 1;
    }
  }
  return { data, shape: [3, h, w] };
}

/**
 * Draws the image with its boxes (flat [n, 4, 2] corner coordinates in image pixels) and, when
 * given, each box's text above it. Returns the canvas.
 */
export async function drawBoxes(file, boxes, texts = []) {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  ctx.lineWidth = Math.max(2, bitmap.width / 400);
  ctx.strokeStyle = '#e11d48';
  ctx.fillStyle = '#e11d48';
  ctx.font = `${Math.max(12, Math.round(bitmap.height / 30))}px sans-serif`;
  for (let i = 0; i * 8 < boxes.length; i++) {
    const p = boxes.slice(i * 8, i * 8 + 8);
    ctx.beginPath();
    ctx.moveTo(p[0], p[1]);
    for (let k = 2; k < 8; k += 2) ctx.lineTo(p[k], p[k + 1]);
    ctx.closePath();
    ctx.stroke();
    if (texts[i] !== undefined) ctx.fillText(texts[i], p[0], Math.max(12, p[1] - 4));
  }
  return canvas;
}
