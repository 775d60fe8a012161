import { InvalidArgumentError } from '../../errors/index.js';

/**
 * Parsing of the numeric strings Triton reads with C++ `std::stoi` / `std::stol`: the URL
 * model version and the `Inference-Header-Content-Length` header. The C++ functions skip
 * leading whitespace, take an optional sign and the longest run of decimal digits, and ignore
 * whatever follows ("12abc" is 12), so a header value is accepted exactly when Triton accepts it.
 */

export const INFER_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MAX = 9223372036854775807n;

type CParse = { ok: true; value: number } | { ok: false; reason: 'invalid' | 'range' };

/** `std::stoi`/`std::stol` semantics over `bits` (32 or 64); values beyond 2^53 lose precision. */
function parseCInteger(s: string, bits: 32 | 64): CParse {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  let negative = false;
  const sign = s.charCodeAt(i);
  if (sign === 43 || sign === 45) {
    negative = sign === 45;
    i++;
  }
  const digitsStart = i;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  if (i === digitsStart) return { ok: false, reason: 'invalid' };
  const magnitude = BigInt(s.slice(digitsStart, i));
  const value = negative ? -magnitude : magnitude;
  if (bits === 32 ? value < BigInt(INT32_MIN) || value > BigInt(INT32_MAX) : value < -INT64_MAX - 1n || value > INT64_MAX) {
    return { ok: false, reason: 'range' };
  }
  return { ok: true, value: Number(value) };
}

function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * The model version of a URL (`/versions/{v}`, digits only by routing); undefined when absent.
 * @throws InvalidArgumentError (400) with Triton's `GetModelVersionFromString` message when the
 *   digits do not fit an int64 (`std::stol` throws out_of_range, whose what() is "stol").
 */
export function parseModelVersion(version: string): number | undefined {
  if (version === '') return undefined;
  const parsed = parseCInteger(version, 64);
  if (!parsed.ok) {
    throw new InvalidArgumentError(
      `failed to get model version from specified version string '${version}' (details: stol), ` +
        'version should be an integral value > 0',
    );
  }
  return parsed.value;
}

/**
 * Length of the JSON part of an infer body (reference §1.4; Triton `GetInferenceHeaderLength`).
 * Without the header the whole body is JSON. Zero means a raw binary request.
 *
 * @param header the raw header value, undefined when absent
 * @param contentLength body length in bytes, after decompression
 * @throws InvalidArgumentError (400): "Unable to parse Inference-Header-Content-Length, got: X"
 *   when no digits lead the value; "..., value is out of range [ -2147483648, 2147483647 ],
 *   got: X" past int32; "inference header size should be in range (0, N), got: X" when the
 *   value is negative or larger than the body.
 */
export function parseInferHeaderLength(header: string | undefined, contentLength: number): number {
  if (header === undefined) return contentLength;
  const parsed = parseCInteger(header, 32);
  if (!parsed.ok) {
    throw new InvalidArgumentError(
      parsed.reason === 'invalid'
        ? `Unable to parse Inference-Header-Content-Length, got: ${header}`
        : `Unable to parse Inference-Header-Content-Length, value is out of range [ ${INT32_MIN}, ${INT32_MAX} ], got: ${header}`,
    );
  }
  if (parsed.value < 0 || parsed.value > contentLength) {
    throw new InvalidArgumentError(
      `inference header size should be in range (0, ${contentLength}), got: ${header}`,
    );
  }
  return parsed.value;
}

/**
 * The header's value when it parses (whatever its range), else undefined; for wording an
 * over-size error before the body has been read. Never throws.
 */
export function peekInferHeaderLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const parsed = parseCInteger(header, 32);
  return parsed.ok ? parsed.value : undefined;
}
