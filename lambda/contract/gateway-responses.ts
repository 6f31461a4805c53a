import type { ErrorBody } from './schemas.ts';

const gatewayError = (code: string, message: string): ErrorBody => ({ code, message });

/**
 * What API Gateway answers by itself, before any function runs, in the contract's error
 * body: the stack configures them as gateway responses, the local bridge answers them.
 */
export const gatewayErrors = {
  unauthorized: gatewayError('UNAUTHORIZED', 'Valid HTTP Basic credentials are required.'),
  accessDenied: gatewayError('ACCESS_DENIED', 'Access to this resource is denied.'),
  /** MISSING_AUTHENTICATION_TOKEN: a path or method the REST API does not declare. */
  notFound: (paths: readonly string[]) => gatewayError('NOT_FOUND', `No such route; the webhook serves ${paths.join(', ')}.`),
  throttled: gatewayError('THROTTLED', 'Too many requests; retry in a few seconds.'),
  payloadTooLarge: gatewayError('PAYLOAD_TOO_LARGE', 'The request body is too large.'),
  /** DEFAULT_4XX: any other refusal, with API Gateway's own status code. */
  refused: gatewayError('GATEWAY_REFUSED', 'API Gateway refused the request before the webhook saw it.'),
  /** DEFAULT_5XX: the function failed or did not answer in time. */
  failure: gatewayError('GATEWAY_FAILURE', 'API Gateway could not get an answer from the webhook; retry the request.'),
};

/**
 * API Gateway's answer to a body over its 10 MB payload limit. AWS documents that the
 * REQUEST_TOO_LARGE gateway response cannot be customised, so this is its own text, not the contract's body.
 */
export const gatewayPayloadLimit = {
  bytes: 10 * 1024 * 1024,
  statusCode: 413,
  contentType: 'text; charset=utf-8',
  body: `HTTP content length exceeded ${10 * 1024 * 1024} bytes.`,
};
