import { InvalidArgumentError } from '../../errors/index.js';

/**
 * Typed access to members of a parsed JSON request, failing with the messages Triton's JSON
 * wrapper produces (common `triton_json.h`, wrapped by `RETURN_MSG_IF_ERR` as
 * "<context>: <detail>"). Triton reports these as INTERNAL (HTTP 500) only because its
 * wrapper maps every JSON error to INTERNAL; infera raises InvalidArgumentError (400), as the
 * brief asks for malformed requests. Triton's messages are fixed strings that clients match
 * exactly, so the tensor they concern (`where`, e.g. "input 'x'") is not added to the message:
 * it travels as the error's `detail`, which the frontend writes to the verbose log.
 */

export type JsonObject = Record<string, unknown>;

const EMPTY: JsonObject = Object.freeze({}) as JsonObject;

/** RapidJSON's IsObject: arrays and null are not objects. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value as an object, or an empty one: Triton's `Find` on a non-object finds nothing. */
export function asObject(v: unknown): JsonObject {
  return isJsonObject(v) ? v : EMPTY;
}

/** Own member lookup (never the prototype chain: "constructor" is not a member). */
export function member(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

export function has(object: JsonObject, key: string): boolean {
  return Object.hasOwn(object, key);
}

const TWO_POW_64 = 18446744073709551616;

/** RapidJSON IsUint64 (integral doubles such as 1.0 also pass: JSON.parse cannot tell). */
export function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < TWO_POW_64;
}

/**
 * The error for a request whose JSON has the wrong shape or types. This is the one place that
 * decides the status of that family (Triton: 500, from its INTERNAL JSON errors; infera: 400).
 */
export function malformedRequest(message: string, detail?: string): InvalidArgumentError {
  return withDetail(new InvalidArgumentError(message), detail);
}

/** An error with context for the log that its (Triton-exact) message leaves out. */
export type DetailedError = Error & { detail?: string };

/** Attaches `detail` (when given) to `err` as an own, enumerable `detail` property. */
export function withDetail<E extends Error>(err: E, detail: string | undefined): E {
  if (detail !== undefined && detail !== '') (err as DetailedError).detail = detail;
  return err;
}

/** The `detail` of an error made by `withDetail`, if any. */
export function errorDetail(err: unknown): string | undefined {
  return err instanceof Error ? (err as DetailedError).detail : undefined;
}

export function missingMember(context: string, key: string, where = ''): InvalidArgumentError {
  return malformedRequest(`${context}: attempt to access non-existing object member '${key}'`, where);
}

export function wrongType(context: string, kind: 'string' | 'boolean' | 'unsigned-integer' | 'array', where = ''): InvalidArgumentError {
  return malformedRequest(`${context}: attempt to access JSON non-${kind} as ${kind}`, where);
}

/** `MemberAsString`. @throws InvalidArgumentError when absent or not a string. */
export function requireString(object: JsonObject, key: string, context: string, where = ''): string {
  if (!Object.hasOwn(object, key)) throw missingMember(context, key, where);
  const v = object[key];
  if (typeof v !== 'string') throw wrongType(context, 'string', where);
  return v;
}

/** `MemberAsArray`. @throws InvalidArgumentError when absent or not an array. */
export function requireArray(object: JsonObject, key: string, context: string, where = ''): unknown[] {
  if (!Object.hasOwn(object, key)) throw missingMember(context, key, where);
  const v = object[key];
  if (!Array.isArray(v)) throw wrongType(context, 'array', where);
  return v;
}
