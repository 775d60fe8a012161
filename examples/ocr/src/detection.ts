/**
 * DB (Differentiable Binarization) post-processing: from the detection model's per-pixel text
 * probability map to text boxes in original-image pixels. Follows PaddleOCR's DBPostProcess
 * defaults, with axis-aligned boxes instead of rotated rectangles (enough for horizontal text).
 */

/** An axis-aligned box in image pixels; `left`/`top` inclusive, `width`/`height` > 0. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface ScoredBox extends Box {
  /** Mean probability over the component's pixels, in [0, 1]. */
  score: number;
}

export interface DbOptions {
  /** Pixels with probability above this are text (default 0.3). */
  threshold?: number;
  /** Components whose mean probability is below this are dropped (default 0.6). */
  boxThreshold?: number;
  /** Growth of the box: offset = area * ratio / perimeter (default 1.5). */
  unclipRatio?: number;
  /** Components with a shorter side (in map pixels) below this are noise (default 3). */
  minSize?: number;
  /**
   * Boxes in one row closer than this many box heights are merged into one line box
   * (default 1; a negative value keeps every box).
   */
  mergeGap?: number;
}

interface Component {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  sum: number;
  count: number;
}

/**
 * Labels the 8-connected regions of `mask` (1 = text) and returns their bounding boxes,
 * probability sums and pixel counts. Iterative flood fill, so large regions cannot overflow
 * the call stack. 8-connectivity matches the contours OpenCV traces in PaddleOCR.
 */
export function connectedComponents(mask: Uint8Array, prob: Float32Array, width: number, height: number): Component[] {
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const components: Component[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    const c: Component = { minX: width, maxX: -1, minY: height, maxY: -1, sum: 0, count: 0 };
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const p = stack[--top]!;
      const x = p % width;
      const y = (p - x) / width;
      if (x < c.minX) c.minX = x;
      if (x > c.maxX) c.maxX = x;
      if (y < c.minY) c.minY = y;
      if (y > c.maxY) c.maxY = y;
      c.sum += prob[p]!;
      c.count++;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] && !seen[q]) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    components.push(c);
  }
  return components;
}

/**
 * Turns a probability map into boxes in the original image.
 * @param prob the map, [mapHeight, mapWidth] row-major (the model's [1, 1, H, W] output).
 * @param imageWidth, imageHeight the original image size that boxes are scaled and clipped to.
 * @returns boxes in reading order (see `sortBoxes`), neighbours in a row merged per `mergeGap`.
 * @throws RangeError when `prob` does not hold mapWidth x mapHeight values.
 */
export function boxesFromProbabilityMap(
  prob: Float32Array,
  mapWidth: number,
  mapHeight: number,
  imageWidth: number,
  imageHeight: number,
  options: DbOptions = {},
): ScoredBox[] {
  const { threshold = 0.3, boxThreshold = 0.6, unclipRatio = 1.5, minSize = 3, mergeGap = 1 } = options;
  if (prob.length !== mapWidth * mapHeight) {
    throw new RangeError(`probability map has ${prob.length} values, expected ${mapWidth}x${mapHeight}`);
  }
  const mask = new Uint8Array(prob.length);
  for (let i = 0; i < prob.length; i++) mask[i] = prob[i]! > threshold ? 1 : 0;

  const sx = imageWidth / mapWidth;
  const sy = imageHeight / mapHeight;
  const boxes: ScoredBox[] = [];
  for (const c of connectedComponents(mask, prob, mapWidth, mapHeight)) {
    // Sizes between pixel centres, as a contour through the boundary pixels measures them.
    const w = c.maxX - c.minX;
    const h = c.maxY - c.minY;
    if (Math.min(w, h) < minSize) continue;
    const score = c.sum / c.count;
    if (score < boxThreshold) continue;
    // The model predicts a shrunk text kernel; DB grows it back by this offset.
    const d = (w * h * unclipRatio) / (2 * (w + h));
    if (Math.min(w, h) + 2 * d < minSize + 2) continue;
    const left = clamp(Math.round((c.minX - d) * sx), 0, imageWidth);
    const right = clamp(Math.round((c.maxX + d) * sx), 0, imageWidth);
    const top = clamp(Math.round((c.minY - d) * sy), 0, imageHeight);
    const bottom = clamp(Math.round((c.maxY + d) * sy), 0, imageHeight);
    // PaddleOCR drops boxes of 3 pixels or less after clipping; they hold no readable text.
    if (right - left <= 3 || bottom - top <= 3) continue;
    boxes.push({ left, top, width: right - left, height: bottom - top, score });
  }
  return mergeGap < 0 ? sortBoxes(boxes) : groupRows(boxes).flatMap((row) => mergeRow(row, mergeGap));
}

/**
 * Reading order: top to bottom, and left to right within a row. Boxes belong to the same row
 * when their vertical centre lies within the row's first box (so a slightly taller word does
 * not start a new line).
 */
export function sortBoxes<T extends Box>(boxes: readonly T[]): T[] {
  return groupRows(boxes).flat();
}

/** Rows of boxes (see `sortBoxes`), top to bottom, each sorted left to right. */
function groupRows<T extends Box>(boxes: readonly T[]): T[][] {
  const byTop = [...boxes].sort((a, b) => a.top - b.top || a.left - b.left);
  const rows: T[][] = [];
  for (const box of byTop) {
    const row = rows[rows.length - 1];
    const first = row?.[0];
    const centre = box.top + box.height / 2;
    if (row && first && centre >= first.top && centre <= first.top + first.height) row.push(box);
    else rows.push([box]);
  }
  return rows.map((row) => row.sort((a, b) => a.left - b.left));
}

/**
 * Joins neighbours in a row whose gap is under `gap` box heights. Large text often comes out
 * of DB as one box per word, and the unclipped word boxes overlap: recognised separately, each
 * would read a sliver of its neighbour as an extra character.
 */
function mergeRow(row: readonly ScoredBox[], gap: number): ScoredBox[] {
  const out: ScoredBox[] = [];
  for (const box of row) {
    const last = out[out.length - 1];
    if (last && box.left - (last.left + last.width) < gap * Math.max(last.height, box.height)) {
      const right = Math.max(last.left + last.width, box.left + box.width);
      const top = Math.min(last.top, box.top);
      const bottom = Math.max(last.top + last.height, box.top + box.height);
      const score = (last.score * last.width + box.score * box.width) / (last.width + box.width);
      out[out.length - 1] = { left: last.left, top, width: right - last.left, height: bottom - top, score };
    } else {
      out.push(box);
    }
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}
