// The fuzzer's randomness and its protocol-neutral mutations: a seeded PRNG per case (so any
// case is rebuilt from (seed, protocol, index) alone), JSON-tree mutations and byte mutations.
// Shared by the HTTP and gRPC case generators (http-cases.mjs, grpc-cases.mjs).

/** 32-bit FNV-1a of a string: the per-case seed from (seed, protocol, index). */
export function hashSeed(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: a small, fast, seedable PRNG. `next()` is uniform in [0, 1). */
export class Rng {
  #state;
  constructor(seed) {
    this.#state = seed >>> 0;
  }
  next() {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n) {
    return Math.floor(this.next() * n);
  }
  pick(items) {
    return items[this.int(items.length)];
  }
  chance(p) {
    return this.next() < p;
  }
}

/** The per-case PRNG. */
export function caseRng(seed, protocol, index) {
  return new Rng(hashSeed(`${seed}:${protocol}:${index}`));
}

/** Values that break parsers and size arithmetic: limits, wrong types, huge and empty things. */
export const INTERESTING_NUMBERS = [
  0, -1, 1, 2, 3, 7, 15, 16, 17, 255, 256, 4095, 4096, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
  2 ** 40, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 2 ** 64, -(2 ** 31), -(2 ** 63), 1e308, -1e308, 0.5, -0.5, 1e-320,
];
export const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BF16', 'BYTES'];
const STRINGS = ['', ' ', 'x', 'INPUT0', 'INPUT1', 'OUTPUT0', 'OUTPUT1', 'simple', '../simple', '%00', '\u0000', '\ud800', 'ünï', '{}', 'null', 'true', '-1', '1e999'];

/** A random JSON value of a kind likely to upset a decoder. */
export function interestingValue(rng) {
  switch (rng.int(9)) {
    case 0:
    case 1:
      return rng.pick(INTERESTING_NUMBERS);
    case 2:
      return rng.pick(STRINGS);
    case 3:
      return rng.pick(DATATYPES);
    case 4:
      return rng.pick([null, true, false]);
    case 5:
      return rng.pick([[], {}, [[]], [null], [1, [2, [3]]], { a: 1 }]);
    case 6:
      return 'A'.repeat(rng.pick([100, 10_000, 1_000_000]));
    case 7:
      return Array.from({ length: rng.int(5) }, () => rng.pick(INTERESTING_NUMBERS));
    default:
      // Deep nesting (recursion depth in decoders), expanded by jsonText.
      return { [DEEP]: rng.pick([10, 100, 5000, 100_000]) };
  }
}

const DEEP = '__fuzz_deep';

/** JSON text of a mutated tree, each deep-nesting marker written out as that many brackets. */
export function jsonText(value) {
  return (JSON.stringify(value) ?? 'null').replace(new RegExp(`\\{"${DEEP}":(\\d+)\\}`, 'g'), (_, text) => {
    // Another mutation may have changed the count: keep it within what a request can carry.
    const n = Math.min(Number(text), 100_000);
    return '['.repeat(n) + ']'.repeat(n);
  });
}

/** Every (container, key) slot in a JSON tree, for picking one to mutate. */
function slots(node, out = []) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => {
      out.push([node, i]);
      if (v !== null && typeof v === 'object') slots(v, out);
    });
  } else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      out.push([node, k]);
      if (v !== null && typeof v === 'object') slots(v, out);
    }
  }
  return out;
}

/**
 * Mutates a JSON tree in place, 1-3 times: replace a value, delete a key or element, add an
 * unknown key, duplicate an element, or change a number by a little or a lot. Returns a short
 * description of what it did.
 */
export function mutateJson(rng, root) {
  const done = [];
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const all = slots(root);
    if (all.length === 0) break;
    const [container, key] = rng.pick(all);
    const at = Array.isArray(container) ? `[${key}]` : `.${String(key)}`;
    const op = rng.int(6);
    if (op === 0) {
      if (Array.isArray(container)) container.splice(key, 1);
      else delete container[key];
      done.push(`delete ${at}`);
    } else if (op === 1 && !Array.isArray(container)) {
      container[rng.pick(['extra', 'parameters', 'data', 'shape', 'datatype', 'name', 'binary_data_size'])] = interestingValue(rng);
      done.push(`add key under ${at}`);
    } else if (op === 2 && Array.isArray(container)) {
      container.push(structuredClone(container[key]));
      done.push(`duplicate ${at}`);
    } else if (op === 3 && typeof container[key] === 'number') {
      container[key] = container[key] + rng.pick([-1, 1, -(2 ** 31), 2 ** 31, 1e9]);
      done.push(`shift number ${at}`);
    } else {
      const v = interestingValue(rng);
      container[key] = v;
      done.push(`set ${at} = ${JSON.stringify(v)?.slice(0, 40)}`);
    }
  }
  return done.join('; ');
}

/**
 * Byte mutations of a buffer (a copy): flip bits, overwrite with 0x00/0xff/random, insert or
 * delete a run, truncate. Returns [bytes, description].
 */
export function mutateBytes(rng, input) {
  let bytes = Buffer.from(input);
  const done = [];
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const at = bytes.length === 0 ? 0 : rng.int(bytes.length);
    switch (rng.int(6)) {
      case 0:
        if (bytes.length > 0) bytes[at] ^= 1 << rng.int(8);
        done.push(`flip bit @${at}`);
        break;
      case 1:
        if (bytes.length > 0) bytes[at] = rng.pick([0x00, 0xff, 0x7f, 0x80, rng.int(256)]);
        done.push(`set byte @${at}`);
        break;
      case 2: {
        const len = rng.pick([1, 4, 16, 256]);
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.alloc(len, rng.int(256)), bytes.subarray(at)]);
        done.push(`insert ${len} @${at}`);
        break;
      }
      case 3: {
        const len = 1 + rng.int(16);
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + len)]);
        done.push(`delete ${len} @${at}`);
        break;
      }
      case 4:
        bytes = bytes.subarray(0, at);
        done.push(`truncate to ${at}`);
        break;
      default:
        for (let i = 0; i < 8 && bytes.length > 0; i++) bytes[rng.int(bytes.length)] = rng.int(256);
        done.push('scramble 8 bytes');
    }
  }
  return [bytes, done.join('; ')];
}
