import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Routes as "METHOD /path", as the REST API declares them. */
export type Routes = Record<string, ProxyHandler>;

/** API Gateway refuses payloads over 10 MB before any Lambda runs. */
const gatewayPayloadLimit = 10 * 1024 * 1024;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const readBody = (request: IncomingMessage): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > gatewayPayloadLimit) {
        resolve(undefined);
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

/** Header maps as API Gateway builds them: `headers` keeps the last value, `multiValueHeaders` all of them. */
const headerMaps = (rawHeaders: string[]) => {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string;
    const value = rawHeaders[index + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
};

/** Text bodies pass as text; bytes that are not UTF-8 pass base64-encoded, as API Gateway does for binary. */
const encodeBody = (bytes: Buffer) => {
  if (bytes.byteLength === 0) return { body: null, isBase64Encoded: false };
  try {
    return { body: strictUtf8.decode(bytes), isBase64Encoded: false };
  } catch {
    return { body: bytes.toString('base64'), isBase64Encoded: true };
  }
};

export const toProxyEvent = (request: IncomingMessage, bytes: Buffer): APIGatewayProxyEvent => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const query = Object.fromEntries(url.searchParams);
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    ...headerMaps(request.rawHeaders),
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: randomUUID(),
      stage: 'local',
      httpMethod: request.method ?? 'GET',
      path: url.pathname,
      resourcePath: url.pathname,
      identity: { sourceIp: request.socket.remoteAddress ?? '127.0.0.1' },
    } as APIGatewayProxyEvent['requestContext'],
    ...encodeBody(bytes),
  };
};

const lambdaContext = (functionName: string): Context => {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
};

const errorBody = (code: string, message: string) => JSON.stringify({ code, message });

const send = (response: ServerResponse, result: APIGatewayProxyResult) => {
  const headers = { ...result.headers, ...result.multiValueHeaders } as Record<string, string | string[]>;
  response.writeHead(result.statusCode, headers);
  response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
};

/**
 * A local stand-in for the REST API in front of the Lambdas: each HTTP request becomes
 * the proxy event the function receives in AWS, and its result the HTTP response.
 */
export const startHttpBridge = async (routes: Routes, options: { host?: string; port?: number } = {}) => {
  const server: Server = createServer(async (request, response) => {
    try {
      const bytes = await readBody(request);
      if (!bytes) return send(response, { statusCode: 413, headers: { 'Content-Type': 'application/json' }, body: errorBody('PAYLOAD_TOO_LARGE', 'The request body exceeds 10 MB.') });
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const handler = routes[`${request.method} ${path}`];
      if (!handler) {
        const known = Object.keys(routes).some((route) => route.endsWith(` ${path}`));
        return send(response, {
          statusCode: known ? 405 : 404,
          headers: { 'Content-Type': 'application/json' },
          body: known ? errorBody('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}.`) : errorBody('NOT_FOUND', `No route ${path}.`),
        });
      }
      send(response, await handler(toProxyEvent(request, bytes), lambdaContext(path.split('/').pop() ?? 'webhook')));
    } catch {
      // What API Gateway answers when the integration fails.
      send(response, { statusCode: 502, headers: { 'Content-Type': 'application/json' }, body: errorBody('BAD_GATEWAY', 'The function failed.') });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
