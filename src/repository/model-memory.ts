import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** The process memory figures a model load is measured with, in bytes. */
export interface ProcessMemorySample {
  /** Resident set size of the whole process (every thread: worker isolates, native heaps). */
  rss: number;
  /** V8 external memory of the main isolate (ArrayBuffers and other off-heap objects). */
  external: number;
}

/** `process.memoryUsage()` reduced to what the paging measurement uses. */
export function sampleProcessMemory(): ProcessMemorySample {
  const m = process.memoryUsage();
  return { rss: m.rss, external: m.external };
}

/**
 * The memory one model was measured to hold at its last load, in bytes.
 *
 * Method: loads of paged models run one at a time, and the process's RSS and V8 external
 * memory are sampled just before and just after each; the deltas are the model's. ONNX
 * Runtime's allocations (weights, arenas) and the instances' worker threads are native
 * memory, so they show in the RSS delta and not in the external one; the RSS delta also
 * covers the JavaScript backend's worker isolates. The figure is noisy: requests to other
 * models running during the load allocate too, and glibc keeps memory freed by an earlier
 * unload and hands it to the next load, which then looks smaller (start the server with
 * `MALLOC_MMAP_THRESHOLD_=131072` so large freed blocks go back to the system). `bytes`, the
 * figure the budget counts, is therefore never below the size of the model's files.
 */
export interface ModelMemory {
  /** What the budget counts: max(RSS delta, external delta, the files' size). */
  bytes: number;
  /** RSS after the load minus RSS before (may be negative). */
  rssDeltaBytes: number;
  /** V8 external memory after minus before (may be negative). */
  externalDeltaBytes: number;
  /** Total size of the files of the model's folder. */
  fileBytes: number;
  /** Instances started by the load (all versions), for `perInstanceBytes`. */
  instances: number;
  /** `bytes` / `instances` (rounded), or `bytes` for a model without instances (ensemble). */
  perInstanceBytes: number;
  /** How long the load took, in ms. */
  loadMs: number;
}

/** The accounted memory of a load measured as `before` → `after`. */
export function modelMemoryOf(
  before: ProcessMemorySample,
  after: ProcessMemorySample,
  fileBytes: number,
  instances: number,
  loadMs: number,
): ModelMemory {
  const rssDeltaBytes = Math.round(after.rss - before.rss);
  const externalDeltaBytes = Math.round(after.external - before.external);
  const bytes = Math.max(rssDeltaBytes, externalDeltaBytes, fileBytes, 0);
  return {
    bytes,
    rssDeltaBytes,
    externalDeltaBytes,
    fileBytes,
    instances,
    perInstanceBytes: instances > 0 ? Math.round(bytes / instances) : bytes,
    loadMs,
  };
}

/**
 * Total size in bytes of the regular files under `dir` (symbolic links followed), the estimate
 * of a model's memory before its first load; 0 when it cannot be read.
 */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(p);
    else {
      try {
        const s = await stat(p);
        total += s.isDirectory() ? await folderBytes(p) : s.size;
      } catch {
        // A file that vanished during the walk counts for nothing.
      }
    }
  }
  return total;
}
