import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { describe, expect, it } from 'vitest';
import { CreateCredentialsRequest } from '#contract/schemas';
import type { WebhookError } from '#contract/errors';
import { jsonBody, maxBodyBytes } from '#http/json-body';
import { createRequest, proxyEvent } from '../../helpers/portal.ts';

const parse = async (event: ReturnType<typeof proxyEvent>) => {
  const request = { event, context: {}, response: undefined, error: undefined, internal: {} } as never;
  try {
    // As in the route: header names are normalized before the body is read.
    await httpHeaderNormalizer().before?.(request);
    await jsonBody(CreateCredentialsRequest).before?.(request);
    return { body: (request as { event: { body: unknown } }).event.body };
  } catch (error) {
    return { error: error as WebhookError };
  }
};

describe('jsonBody', () => {
  it('hands the handler the validated body', async () => {
    // Act
    const { body } = await parse(proxyEvent({ body: createRequest() }));

    // Assess
    expect(body).toMatchObject({ appSlug: '590d83b5c05f', apis: [{ id: '5aba4csvd4' }] });
  });

  it.each([['application/json; charset=utf-8'], ['Application/JSON'], ['application/vnd.sensedia+json']])(
    'accepts the JSON media type %s',
    async (contentType) => {
      // Act
      const { error } = await parse(proxyEvent({ body: createRequest(), headers: { 'content-type': contentType } }));

      // Assess
      expect(error).toBeUndefined();
    },
  );

  it.each([['text/plain'], ['application/jsonp'], ['']])('refuses the media type "%s" with 415', async (contentType) => {
    // Act
    const { error } = await parse(proxyEvent({ body: createRequest(), headers: { 'content-type': contentType } }));

    // Assess
    expect(error?.statusCode).toBe(415);
  });

  it('refuses two Content-Type headers with 415, even when both say JSON: which one the body follows is a guess', async () => {
    // Prepare
    const event = proxyEvent({ body: createRequest(), multiValueHeaders: { 'Content-Type': ['application/json', 'application/json'] } });

    // Act
    const { error } = await parse(event);

    // Assess
    expect(error?.statusCode).toBe(415);
  });

  it('refuses a body over 64 KB with 413, counting bytes rather than characters', async () => {
    // Prepare: 22,000 three-byte characters are 66,000 bytes.
    const event = proxyEvent({ body: { ...createRequest(), note: '€'.repeat(22_000) } });

    // Act
    const { error } = await parse(event);

    // Assess
    expect(JSON.stringify(createRequest()).length + 22_000).toBeLessThan(maxBodyBytes);
    expect(error?.statusCode).toBe(413);
  });

  it('refuses base64 bodies that are not UTF-8, and malformed JSON, with 400', async () => {
    // Prepare
    const notUtf8 = { ...proxyEvent({ body: 'x' }), body: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), isBase64Encoded: true };

    // Act
    const [binary, truncated, empty] = await Promise.all([
      parse(notUtf8),
      parse(proxyEvent({ body: '{"appName":' })),
      parse(proxyEvent({ body: '' })),
    ]);

    // Assess
    expect([binary.error?.code, truncated.error?.code, empty.error?.code]).toEqual(['MALFORMED_JSON', 'MALFORMED_JSON', 'MALFORMED_JSON']);
  });

  it('drops "__proto__" keys so no object gets a foreign prototype', async () => {
    // Prepare
    const body = `{"__proto__":{"polluted":true},"appName":"a","developer":"d@example.com","apis":[{"id":"x","usagePlans":[{"id":"p","__proto__":{"polluted":true}}]}]}`;

    // Act
    const { body: parsed } = await parse(proxyEvent({ body }));

    // Assess
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect((parsed as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('lists every validation problem with its path', async () => {
    // Act
    const { error } = await parse(
      proxyEvent({ body: { appName: 7, developer: 'd@example.com', apis: [{ id: 'a b', usagePlans: [{ id: 'p' }, { id: 'p' }] }] } }),
    );

    // Assess
    expect(error?.statusCode).toBe(400);
    expect(error?.details?.map((detail) => detail.path).sort()).toEqual(['apis.0.id', 'apis.0.usagePlans.1.id', 'appName']);
  });
});
