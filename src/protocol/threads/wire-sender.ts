import { WireReader, WireWriter } from './wire-buffer.js';
import type { WireOut } from './wire-codec.js';

/** What a binary message is on a port: the message buffer, or it and the buffers it refers to. */
export type WireMessage = ArrayBuffer | ArrayBufferLike[];

/** Whether `message` is a binary one (else one of the object messages of wire.ts). */
export function isWireMessage(message: unknown): message is WireMessage {
  return message instanceof ArrayBuffer || Array.isArray(message);
}

/**
 * Reads each record of `message` with `read` and returns them all, or throws, leaving `reader`
 * broken (see `WireReader.broke`): nothing of a message that cannot be read to its end is used.
 */
export function readWireMessage<T>(reader: WireReader, message: WireMessage, read: (r: WireReader, buffers: readonly ArrayBufferLike[]) => T): T[] {
  const buffers: readonly ArrayBufferLike[] = Array.isArray(message) ? message : [message];
  const out: T[] = [];
  try {
    reader.begin(buffers[0] as ArrayBuffer);
    while (reader.more) out.push(read(reader, buffers));
  } catch (err) {
    reader.broke();
    throw err;
  }
  return out;
}

/**
 * The sending half of one direction of a port: records (calls or replies) made in the same turn
 * of the event loop go in one binary message, posted from setImmediate, with the buffers that
 * move listed for transfer; items that cannot take the binary form go in one object message
 * (`wrap`) beside it. Both halves of a port keep a name table in step (wire-buffer.ts).
 */
export class WireSender<T, M> implements WireOut {
  readonly #writer = new WireWriter();
  readonly #post: (message: M | WireMessage, transfer: ArrayBuffer[]) => void;
  readonly #wrap: (items: T[]) => M;
  readonly #lost: (ids: number[], err: unknown) => void;
  #ids: number[] = [];
  #buffers: ArrayBufferLike[] = [];
  #transfer: ArrayBuffer[] = [];
  #items: T[] = [];
  #itemIds: number[] = [];
  #itemTransfer: ArrayBuffer[] = [];
  #queued = false;
  readonly #flush = (): void => this.flush();

  /**
   * @param post the port's postMessage
   * @param wrap the object message for items that go the object way
   * @param lost called with the ids of a message that postMessage refused, and its error
   */
  constructor(post: (message: M | WireMessage, transfer: ArrayBuffer[]) => void, wrap: (items: T[]) => M, lost: (ids: number[], err: unknown) => void) {
    this.#post = post;
    this.#wrap = wrap;
    this.#lost = lost;
  }

  /**
   * Appends one record, `write(writer, this, a, b)` (a module function: no closure per record). When `write` throws, nothing of the record stays and the
   * error is rethrown (the caller may then send the item the object way).
   */
  record<A, B>(id: number, write: (w: WireWriter, out: WireOut, a: A, b: B) => void, a: A, b: B): void {
    const w = this.#writer;
    if (this.#ids.length === 0) w.begin();
    w.startRecord();
    const buffers = this.#buffers.length;
    const transfer = this.#transfer.length;
    try {
      write(w, this, a, b);
    } catch (err) {
      w.abortRecord();
      this.#buffers.length = buffers;
      this.#transfer.length = transfer;
      throw err;
    }
    this.#ids.push(id);
    this.#queue();
  }

  /** Appends an item that goes the object way; `transfer` lists the buffers it moves. */
  object(id: number, item: T, transfer: readonly ArrayBuffer[]): void {
    this.#items.push(item);
    this.#itemIds.push(id);
    for (const b of transfer) if (!this.#itemTransfer.includes(b)) this.#itemTransfer.push(b);
    this.#queue();
  }

  /** The index of `buffer` in the binary message's buffer list (added, and moved unless shared). */
  extra(buffer: ArrayBufferLike): number {
    let k = this.#buffers.indexOf(buffer);
    if (k < 0) {
      k = this.#buffers.push(buffer) - 1;
      if (buffer instanceof ArrayBuffer) this.#transfer.push(buffer);
    }
    return k + 1;
  }

  /** The next message starts a new name table epoch (the reader said it lost track). */
  resync(): void {
    this.#writer.lost();
  }

  /** Posts what is pending now (else it goes from setImmediate). */
  flush(): void {
    this.#queued = false;
    if (this.#ids.length > 0) {
      const ids = this.#ids;
      const buf = this.#writer.take();
      const message: WireMessage = this.#buffers.length === 0 ? buf : [buf, ...this.#buffers];
      const transfer = this.#transfer;
      transfer.unshift(buf);
      this.#ids = [];
      this.#buffers = [];
      this.#transfer = [];
      try {
        this.#post(message, transfer);
      } catch (err) {
        this.#writer.lost();
        this.#lost(ids, err);
      }
    }
    if (this.#items.length > 0) {
      const message = this.#wrap(this.#items);
      const ids = this.#itemIds;
      const transfer = this.#itemTransfer;
      this.#items = [];
      this.#itemIds = [];
      this.#itemTransfer = [];
      try {
        this.#post(message, transfer);
      } catch (err) {
        this.#lost(ids, err);
      }
    }
  }

  #queue(): void {
    if (this.#queued) return;
    this.#queued = true;
    setImmediate(this.#flush);
  }
}
