/** Node's codes for a request that got no answer: the connection was refused, reset or timed out, or the host name did not resolve. */
export const networkErrorCodes: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** Whether the error is a network failure (by its Node error code). */
export const isNetworkError = (error: unknown): boolean => networkErrorCodes.has(String((error as { code?: unknown } | undefined)?.code));
