/**
 * Raised by the client when the server answers with a non-2xx status, or when a 2xx answer
 * cannot be decoded (then `status` is that 2xx status).
 *
 * Network failures and timeouts are not wrapped: they surface as `fetch`'s own errors
 * (`TypeError: fetch failed` with a `cause`, or a `TimeoutError` DOMException), so callers
 * can tell "the server said no" from "the server could not be reached".
 */
export class InferaClientError extends Error {
  /** HTTP status of the answer. */
  readonly status: number;

  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InferaClientError';
    this.status = status;
  }
}

/**
 * Builds the error for a failed answer from its body: the server's `{"error": "..."}` message
 * when the body is that JSON, the raw text otherwise, the status text when the body is empty.
 */
export async function errorFromResponse(res: Response): Promise<InferaClientError> {
  const text = await res.text();
  let message = text || res.statusText || `HTTP ${res.status}`;
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string') {
      message = (body as { error: string }).error;
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): the raw text is the best message there is.
  }
  return new InferaClientError(res.status, message);
}
