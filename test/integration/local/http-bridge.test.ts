import { request } from 'node:http';
import { connect } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { gatewayErrors, gatewayPayloadLimit } from '#contract/gateway-responses';
import { startHttpBridge } from '../../../local/http-bridge.ts';

// Prepare (shared): the bridge in front of two stand-in functions that record what reached them.
const reached: APIGatewayProxyEvent[] = [];
const answer = async (event: APIGatewayProxyEvent) => {
  reached.push(event);
  return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":true}' };
};
const bridge = await startHttpBridge({
  'POST /v1/createCredentials': answer,
  'GET /v1/health': answer,
  'POST /v1/revokeCredentials': async () => {
    throw new Error('the function crashed');
  },
});
afterAll(() => bridge.close());
beforeEach(() => {
  reached.length = 0;
});
const { hostname, port } = new URL(bridge.url);
const notFound = gatewayErrors.notFound(['/v1/createCredentials', '/v1/health', '/v1/revokeCredentials']);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request as written, request target included (fetch would resolve dot segments before sending). */
const send = (method: string, target: string, options: { headers?: Record<string, string>; body?: Buffer | string } = {}) =>
  new Promise<Answer>((resolve, reject) => {
    const outgoing = request({ host: hostname, port, method, path: target, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });

/** Raw bytes on a socket, for requests Node's HTTP client refuses to write. */
const sendRaw = (bytes: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });

const json = { 'Content-Type': 'application/json' };

describe('the local bridge answers as API Gateway does', () => {
  it("answers a body over 10 MB with 413 and API Gateway's own text, instead of resetting the connection", async () => {
    // Act
    const response = await send('POST', '/v1/createCredentials', { headers: json, body: Buffer.alloc(11 * 1024 * 1024, 'a') });

    // Assess
    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toBe(gatewayPayloadLimit.contentType);
    expect(response.text).toBe('HTTP content length exceeded 10485760 bytes.');
    expect(reached).toHaveLength(0);
  });

  it('answers a body the function\'s 6 MB invocation limit refuses with 413 "Request Too Long"', async () => {
    // Act
    const response = await send('POST', '/v1/createCredentials', { headers: json, body: Buffer.alloc(7 * 1024 * 1024, 'a') });

    // Assess
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text)).toEqual({ message: 'Request Too Long' });
    expect(reached).toHaveLength(0);
  });

  it('still passes a body just under 6 MB to the function', async () => {
    // Act
    const response = await send('POST', '/v1/createCredentials', { headers: json, body: Buffer.alloc(6 * 1024 * 1024 - 4096, 'a') });

    // Assess
    expect(response.status).toBe(200);
    expect(reached).toHaveLength(1);
  });

  it.each([
    ['dot segments', '/v1/x/../createCredentials'],
    ['a dot segment', '/v1/./createCredentials'],
    ['encoded dot segments', '/v1/x/%2e%2e/createCredentials'],
    ['the absolute form', `http://${hostname}:${port}/v1/createCredentials`],
    ['the absolute form of another host', 'http://elsewhere.example/v1/createCredentials'],
    ['a path the API does not declare', '/v1/createcredentials'],
  ])("answers a request target with %s with the contract's 404, reaching no function", async (_kind, target) => {
    // Act
    const response = await send('POST', target, { headers: json, body: '{}' });

    // Assess
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.text)).toEqual(notFound);
    expect(reached).toHaveLength(0);
  });

  it.each(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'])(
    "answers %s on a declared path, which declares no such method, with the contract's 404",
    async (method) => {
      // Act
      const response = await send(method, '/v1/health');

      // Assess
      expect(response.status).toBe(404);
      expect(JSON.parse(response.text)).toEqual(notFound);
      expect(reached).toHaveLength(0);
    },
  );

  it('answers HEAD, which the REST API does not declare, with 404 and no body', async () => {
    // Act
    const response = await send('HEAD', '/v1/health');

    // Assess
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.text).toBe('');
    expect(reached).toHaveLength(0);
  });

  it("answers headers too large for Node's parser with 431 in the contract body", async () => {
    // Act
    const response = await send('GET', '/v1/health', { headers: { 'X-Padding': 'p'.repeat(20_000) } });

    // Assess
    expect(response.status).toBe(431);
    expect(JSON.parse(response.text)).toEqual(gatewayErrors.refused);
    expect(reached).toHaveLength(0);
  });

  it.each([
    ['an unknown method', 'BREW /v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a malformed request line', 'GET\r\n\r\n'],
    ['a header line without a colon', 'GET /v1/health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'],
  ])('answers %s with 400 in the contract body', async (_kind, bytes) => {
    // Act
    const raw = await sendRaw(bytes);

    // Assess
    const [head = '', body] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(body ?? '')).toEqual(gatewayErrors.refused);
  });

  it('answers a function that throws with 502 in the contract body', async () => {
    // Act
    const response = await send('POST', '/v1/revokeCredentials', { headers: json, body: '{}' });

    // Assess
    expect(response.status).toBe(502);
    expect(JSON.parse(response.text)).toEqual(gatewayErrors.failure);
  });

  it("names each request's API Gateway request id in x-amzn-RequestId, as the function saw it", async () => {
    // Act
    const response = await send('GET', '/v1/health?probe=1');

    // Assess
    expect(response.status).toBe(200);
    expect(reached).toHaveLength(1);
    expect(response.headers['x-amzn-requestid']).toBe(reached[0]?.requestContext.requestId);
    expect(reached[0]).toMatchObject({ resource: '/v1/health', path: '/v1/health', httpMethod: 'GET', queryStringParameters: { probe: '1' } });
  });
});
