import type { ErrorBody } from './schemas.ts';

/**
 * Every failure the webhook reports on purpose. Its message is written for the
 * portal's operator and is safe to return: it never carries AWS error text,
 * ARNs or secrets, nor an account id except where a full quota is (`quotaExceeded`).
 */
export class WebhookError extends Error {
  override readonly name = 'WebhookError';

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorBody['details'],
    readonly headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export const badRequest = (code: string, message: string, details?: ErrorBody['details']) => new WebhookError(400, code, message, details);

/**
 * 400 for a request presenting more than one credential where bearer tokens are accepted:
 * RFC 6750 §3.1 `invalid_request` ("uses more than one method for including an access token").
 */
export const ambiguousCredentials = (challenge: string) =>
  new WebhookError(400, 'AMBIGUOUS_CREDENTIALS', 'The request presents more than one credential; send exactly one.', undefined, {
    'WWW-Authenticate': challenge,
  });

/** 401 with a challenge for each scheme the deployment accepts (`WWW-Authenticate`). */
export const unauthorized = (challenge: string, message: string) =>
  new WebhookError(401, 'UNAUTHORIZED', message, undefined, { 'WWW-Authenticate': challenge });

/** 403 for a valid access token without the scope the webhook requires (RFC 6750 §3.1). */
export const insufficientScope = (challenge: string) =>
  new WebhookError(403, 'INSUFFICIENT_SCOPE', 'The access token does not grant the scope this webhook requires.', undefined, {
    'WWW-Authenticate': challenge,
  });

export const notFound = (message: string) => new WebhookError(404, 'CREDENTIAL_NOT_FOUND', message);

export const conflict = (code: string, message: string) => new WebhookError(409, code, message);

export const payloadTooLarge = (limitBytes: number) =>
  new WebhookError(413, 'PAYLOAD_TOO_LARGE', `The request body must not exceed ${limitBytes} bytes.`);

export const unsupportedMediaType = () =>
  new WebhookError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON (Content-Type: application/json).');

export const unprocessable = (code: string, message: string) => new WebhookError(422, code, message);

export const throttled = (cause: unknown) =>
  new WebhookError(
    429,
    'AWS_THROTTLED',
    'AWS is still throttling after retries; retry the request in a few seconds.',
    undefined,
    { 'Retry-After': '5' },
    { cause },
  );

export const awsFailure = (action: string, cause: unknown) =>
  new WebhookError(502, 'AWS_FAILURE', `AWS failed while ${action}; nothing was left half-made, retry the request.`, undefined, {}, { cause });

export const unavailable = (code: string, message: string, cause?: unknown) => new WebhookError(503, code, message, undefined, {}, { cause });

/**
 * 503 for a full quota, decided before anything is made. No `Retry-After`: retrying cannot help until
 * credentials are revoked or the quota raised. The message names the quota and where it is full (an
 * account and Region, or a user pool): the platform team needs to know which one.
 */
export const quotaExceeded = (message: string) => new WebhookError(503, 'QUOTA_EXCEEDED', message);

/** AWS refuses what this deployment is configured to send: only the platform team can fix it. */
export const misconfigured = (setting: string, cause: unknown) =>
  new WebhookError(
    500,
    'DEPLOYMENT_MISCONFIGURED',
    `AWS refused this deployment's configuration; the platform team must check ${setting}. Retrying will not help.`,
    undefined,
    {},
    { cause },
  );

export const timedOut = () =>
  new WebhookError(503, 'TIMED_OUT', 'The webhook ran out of time waiting for AWS; retry the request, it will finish the work.', undefined, {
    'Retry-After': '5',
  });

export const internalError = () => new WebhookError(500, 'INTERNAL_ERROR', 'The webhook failed unexpectedly; the failure was logged.');
