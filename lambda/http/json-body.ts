import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as z from 'zod/mini';
import { badRequest, payloadTooLarge, unsupportedMediaType } from '#contract/errors';
import { strictUtf8 } from './strict-utf8.ts';

/** The portal's bodies are a few hundred bytes; 64 KB leaves room and bounds the parser's work. */
export const maxBodyBytes = 64 * 1024;

const jsonMediaType = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

// JSON.parse makes "__proto__" an own property, but copying such an object later can
// replace a prototype: drop the key while parsing.
const dropPrototypeKeys = (key: string, value: unknown) => (key === '__proto__' ? undefined : value);

const decodeBody = (event: APIGatewayProxyEvent): string => {
  const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.byteLength > maxBodyBytes) throw payloadTooLarge(maxBodyBytes);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw badRequest('MALFORMED_JSON', 'The request body is not valid UTF-8.');
  }
};

export type ParsedBodyEvent<T> = Omit<APIGatewayProxyEvent, 'body'> & { body: T };

/** Checks the media type and size, parses JSON and validates it: the handler receives a typed body or never runs. */
export const jsonBody = <S extends z.ZodMiniType>(schema: S): MiddlewareObj<APIGatewayProxyEvent> => ({
  before: async (request) => {
    const { event } = request;
    // One Content-Type, and JSON: with several, which one the body follows is a guess.
    if ((event.multiValueHeaders?.['content-type']?.length ?? 0) > 1 || !jsonMediaType.test(event.headers?.['content-type'] ?? '')) {
      throw unsupportedMediaType();
    }
    const text = decodeBody(event);
    let json: unknown;
    try {
      json = JSON.parse(text, dropPrototypeKeys);
    } catch (error) {
      // The reviver walks the parsed value recursively; absurd nesting exhausts the stack.
      if (error instanceof RangeError) throw badRequest('MALFORMED_JSON', 'The request body is nested too deeply.');
      throw badRequest('MALFORMED_JSON', 'The request body is not well-formed JSON.');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const details = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), problem: issue.message }));
      throw badRequest('VALIDATION_FAILED', `The request body is invalid: ${details.length} problem(s), see details.`, details);
    }
    (request.event as unknown as ParsedBodyEvent<z.infer<S>>).body = parsed.data;
  },
});
