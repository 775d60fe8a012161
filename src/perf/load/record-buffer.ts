import type { RequestTiming } from './request-timing.js';
import { RECORD_FIELDS } from './worker-protocol.js';

/** Completed-request timings, appended without allocation per request and handed off in bulk. */
export class RecordBuffer {
  #data = new Float64Array(RECORD_FIELDS * 4096);
  #length = 0;

  push(t: RequestTiming): void {
    if (this.#length + RECORD_FIELDS > this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    const d = this.#data;
    const i = this.#length;
    d[i] = t.start;
    d[i + 1] = t.sent;
    d[i + 2] = t.firstByte;
    d[i + 3] = t.end;
    this.#length = i + RECORD_FIELDS;
  }

  /** The records so far (a copy whose buffer may be transferred), leaving the buffer empty. */
  take(): Float64Array {
    const out = this.#data.slice(0, this.#length);
    this.#length = 0;
    return out;
  }
}
