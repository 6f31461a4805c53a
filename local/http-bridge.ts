import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { gatewayErrors, gatewayPayloadLimit } from '#contract/gateway-responses';
import { strictUtf8 } from '#http/strict-utf8';
import { headerMaps } from './header-maps.ts';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Routes as "METHOD /path", as the REST API declares them. */
export type Routes = Record<string, ProxyHandler>;

/** Lambda refuses a synchronous invocation whose event exceeds 6 MB; API Gateway then answers 413 with its own body. */
const invocationPayloadLimit = 6 * 1024 * 1024;

// The functions share this process and answer concurrently, as on Lambda Managed Instances, whose
// runtime keeps each invocation's context in an async-local InvokeStore. Powertools reads it from
// there, so each log line names its own request. Set before any function loads.
process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '64';
const invocations = await InvokeStore.getInstanceAsync(true);

/** The body, or undefined once it passes API Gateway's limit (the rest is read and dropped, so the client hears the answer). */
const readBody = (request: IncomingMessage): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= gatewayPayloadLimit.bytes) chunks.push(chunk);
    });
    request.on('end', () => resolve(size <= gatewayPayloadLimit.bytes ? Buffer.concat(chunks) : undefined));
    request.on('error', reject);
  });

/** Node's raw headers (name, value, name, value, …) as header lines. */
function* headerLines(rawHeaders: string[]): Generator<[string, string]> {
  for (let index = 0; index < rawHeaders.length; index += 2) yield [rawHeaders[index] as string, rawHeaders[index + 1] as string];
}

/** Text bodies pass as text; bytes that are not UTF-8 pass base64-encoded, as API Gateway does for binary. */
const encodeBody = (bytes: Buffer) => {
  if (bytes.byteLength === 0) return { body: null, isBase64Encoded: false };
  try {
    return { body: strictUtf8.decode(bytes), isBase64Encoded: false };
  } catch {
    return { body: bytes.toString('base64'), isBase64Encoded: true };
  }
};

/**
 * The request target split as API Gateway matches it: the path exactly as sent, compared with
 * the declared resources without resolving dot segments or decoding, and the query string.
 * Anything but the origin form (`/path?query`) names no resource.
 */
const requestTarget = (target: string) => {
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = Object.fromEntries(new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1)));
  return { path, query: Object.keys(query).length ? query : null };
};

const toProxyEvent = (
  request: IncomingMessage,
  bytes: Buffer,
  path: string,
  query: Record<string, string> | null,
  requestId: string,
): APIGatewayProxyEvent => ({
  resource: path,
  path,
  httpMethod: request.method as string,
  ...headerMaps(headerLines(request.rawHeaders)),
  queryStringParameters: query,
  multiValueQueryStringParameters: null,
  pathParameters: null,
  stageVariables: null,
  requestContext: {
    requestId,
    stage: 'local',
    httpMethod: request.method as string,
    path,
    resourcePath: path,
    identity: { sourceIp: request.socket.remoteAddress ?? '127.0.0.1' },
  } as APIGatewayProxyEvent['requestContext'],
  ...encodeBody(bytes),
});

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

/** One invocation, in its own InvokeStore context as Lambda's runtime gives it. */
const invoke = (handler: ProxyHandler, event: APIGatewayProxyEvent, context: Context) =>
  invocations.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () => handler(event, context));

const jsonAnswer = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

const send = (response: ServerResponse, requestId: string, result: APIGatewayProxyResult) => {
  const headers = { ...result.headers, ...result.multiValueHeaders, 'x-amzn-RequestId': requestId } as Record<string, string | string[]>;
  response.writeHead(result.statusCode, headers);
  response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
};

/**
 * What API Gateway answers requests Node's HTTP parser cannot read: its DEFAULT_4XX gateway
 * response keeps the status and carries the contract's body (Node's own answer has none).
 */
const refuseUnreadable = (error: NodeJS.ErrnoException, socket: Socket) => {
  if (error.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  const body = JSON.stringify(gatewayErrors.refused);
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
};

/**
 * A local stand-in for the REST API in front of the Lambdas: each HTTP request becomes the
 * proxy event the function receives in AWS, and its result the HTTP response. What API Gateway
 * answers by itself (unknown routes and methods, oversized bodies, unreadable requests, a failed
 * function) it answers the same way, in the contract's body where the stack's gateway responses put it.
 */
export const startHttpBridge = async (routes: Routes, options: { host?: string; port?: number } = {}) => {
  const declaredPaths = [...new Set(Object.keys(routes).map((route) => route.slice(route.indexOf(' ') + 1)))];
  const server: Server = createServer(async (request, response) => {
    const requestId = randomUUID();
    try {
      const bytes = await readBody(request);
      if (!bytes) {
        response.writeHead(gatewayPayloadLimit.statusCode, { 'Content-Type': gatewayPayloadLimit.contentType, 'x-amzn-RequestId': requestId });
        return response.end(gatewayPayloadLimit.body);
      }
      const { path, query } = requestTarget(request.url ?? '');
      const handler = routes[`${request.method} ${path}`];
      // MISSING_AUTHENTICATION_TOKEN, whatever the path or method lacks; the stack maps it to 404.
      if (!handler) return send(response, requestId, jsonAnswer(404, gatewayErrors.notFound(declaredPaths)));
      const event = toProxyEvent(request, bytes, path, query, requestId);
      if (Buffer.byteLength(JSON.stringify(event)) > invocationPayloadLimit) {
        return send(response, requestId, jsonAnswer(413, { message: 'Request Too Long' }));
      }
      send(response, requestId, await invoke(handler, event, lambdaContext(path.split('/').pop() as string)));
    } catch {
      // DEFAULT_5XX: the function failed.
      send(response, requestId, jsonAnswer(502, gatewayErrors.failure));
    }
  });
  server.on('clientError', refuseUnreadable);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
