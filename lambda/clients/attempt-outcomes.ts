import type { FinalizeRequestHandlerOptions, FinalizeRequestMiddleware, Pluggable, RelativeMiddlewareOptions } from '@smithy/types';

/**
 * The SDK retries below the caller, and a failed call's error is the last attempt's alone: a
 * create whose first attempt timed out after AWS made the resource, then met 429 on every
 * retry, fails with a plain 429. This middleware sits below the retry middleware, sees every
 * attempt of one call, and remembers whether any failed attempt may have been carried out.
 */

/** Whether a failed attempt may have been carried out by AWS: no answer (time-out, dropped connection) or a 5xx. */
export const attemptMayHaveActed = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const { $metadata, code } = error as { $metadata?: { httpStatusCode?: number }; code?: string };
  const status = $metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  // Refused connections and failed DNS look-ups never reached AWS; a reset or a time-out may have.
  return error.name === 'TimeoutError' || ['ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code ?? '');
};

/** Keyed by the output or error a call ended with. */
const failedAttemptsMayHaveActed = new WeakMap<object, boolean>();

/**
 * For a call's output or error: whether one of its failed attempts may have been carried out
 * (for an error, the last attempt included). Undefined when the call did not pass through a
 * client with `recordAttemptOutcomes`, e.g. a mocked client.
 */
export const failedAttemptMayHaveActed = (outputOrError: unknown): boolean | undefined =>
  typeof outputOrError === 'object' && outputOrError !== null ? failedAttemptsMayHaveActed.get(outputOrError) : undefined;

/** Any command of any client: the middleware reads only errors and outputs. */
// biome-ignore lint/suspicious/noExplicitAny: one middleware for every command of every client; the SDK types such a stack with any.
type AnyMiddleware = FinalizeRequestMiddleware<any, any>;

const recordAttempts: AnyMiddleware = (next) => {
  // The SDK resolves the middleware stack once per call, so this closure spans its attempts.
  let mayHaveActed = false;
  return async (args) => {
    try {
      const result = await next(args);
      if (typeof result.output === 'object' && result.output !== null) failedAttemptsMayHaveActed.set(result.output, mayHaveActed);
      return result;
    } catch (error) {
      mayHaveActed ||= attemptMayHaveActed(error);
      if (typeof error === 'object' && error !== null) failedAttemptsMayHaveActed.set(error, mayHaveActed);
      throw error;
    }
  };
};

const placement: RelativeMiddlewareOptions & Pick<FinalizeRequestHandlerOptions, 'tags'> = {
  name: 'recordAttemptOutcomes',
  relation: 'after',
  toMiddleware: 'retryMiddleware',
  override: true,
};

/** `client.middlewareStack.use(recordAttemptOutcomes)`: every call then tells whether a failed attempt may have acted. */
// biome-ignore lint/suspicious/noExplicitAny: a plugin for any client's stack, which the SDK types with any.
export const recordAttemptOutcomes: Pluggable<any, any> = {
  applyToStack: (stack) => stack.addRelativeTo(recordAttempts, placement),
};
