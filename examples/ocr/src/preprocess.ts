import sharp from 'sharp';

/**
 * Image loading and the text-detection input tensor, following PaddleOCR's test-time
 * preprocessing for DB detection (DetResizeForTest with limit_type "max", NormalizeImage,
 * ToCHWImage). PaddleOCR reads images with OpenCV, so its tensors are in **BGR** order and the
 * ImageNet mean/std are applied to the channels in that order; the model was trained that way.
 */

/** A decoded image: 8-bit RGB, row-major HWC, `width * height * 3` bytes. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

/** Detection input: FP32 [1, 3, H, W] plus the scale back to the original image. */
export interface DetectionInput {
  tensor: Float32Array;
  shape: [1, 3, number, number];
}

const DET_MEAN = [0.485, 0.456, 0.406];
const DET_STD = [0.229, 0.224, 0.225];

/**
 * Decodes any image sharp reads (PNG, JPEG, WebP, ...) to RGB, honouring EXIF orientation and
 * putting transparent pixels on white (text on a transparent background is common).
 */
export async function loadImage(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input)
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Resizes raw RGB to exactly `width` x `height` (aspect ratio not kept). */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (width === image.width && height === image.height) return image;
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    // Bilinear, like cv2.resize's default in PaddleOCR.
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { data, width, height };
}

/**
 * Detection input size: scale so the longer side is at most `maxSide` (never enlarge), then
 * round each side to a multiple of 32 (the network downsamples by 32), at least 32.
 * Returns [width, height].
 */
export function detectionSize(width: number, height: number, maxSide = 960): [number, number] {
  const ratio = Math.max(width, height) > maxSide ? maxSide / Math.max(width, height) : 1;
  const round32 = (v: number) => Math.max(Math.round(Math.trunc(v * ratio) / 32) * 32, 32);
  return [round32(width), round32(height)];
}

/**
 * Builds the detection input for an image: resized per `detectionSize`, scaled to [0, 1],
 * normalised with the ImageNet mean/std, channels B, G, R, CHW layout.
 */
export async function prepareDetection(image: RgbImage, maxSide = 960): Promise<DetectionInput> {
  const [w, h] = detectionSize(image.width, image.height, maxSide);
  const resized = await resizeRgb(image, w, h);
  const plane = w * h;
  const tensor = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    // Output channel c (B, G, R) reads RGB channel 2 - c.
    const src = 2 - c;
    const mean = DET_MEAN[c]!;
    const std = DET_STD[c]!;
    const out = c * plane;
    for (let i = 0; i < plane; i++) tensor[out + i] = (resized.data[i * 3 + src]! / 255 - mean) / std;
  }
  return { tensor, shape: [1, 3, h, w] };
}
