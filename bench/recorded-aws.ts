/**
 * AWS's answers on the wire, recorded by operation (the SDK's models give each route, status and
 * shape), for the bench: served in-process at the SDK clients' request handler (warm.ts) or by a
 * local HTTP server the bundled functions reach through AWS_ENDPOINT_URL (first requests).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createRequest, exampleApiId, examplePlanId, portalUser } from '../test/helpers/portal.ts';

export type Service = 'apigateway' | 'dynamodb' | 'secretsmanager';
export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
}
type Recorded = { status: number; body?: unknown };
type Answer = Recorded | ((path: string) => Recorded);

// The record a repeated create of createRequest() finds (same developer and grant, so it is answered
// from AWS), as DynamoDB sends it.
const owned = {
  ...createRequest(),
  appKey: '590d83b5c05f',
  state: 'ACTIVE',
  credentialType: 'API_KEY',
  credentialId: 'key1',
  apiIds: [exampleApiId],
  usagePlanIds: [examplePlanId],
  scopes: [],
};
const ownedItem = marshall(owned, { removeUndefinedValues: true });
/** An API key, as API Gateway sends it (dates in epoch seconds). */
const apiKey = {
  id: 'key1',
  value: 'v'.repeat(40),
  name: 'portal-590d83b5c05f',
  enabled: true,
  createdDate: 1.7e9,
  lastUpdatedDate: 1.7e9,
  stageKeys: [],
};

const apiGatewayAnswers: [method: string, path: RegExp, answer: Answer][] = [
  ['POST', /^\/apikeys$/, { status: 201, body: apiKey }],
  ['GET', /^\/apikeys\/[^/]+$/, { status: 200, body: apiKey }],
  ['DELETE', /^\/apikeys\/[^/]+$/, { status: 202 }],
  ['POST', /^\/usageplans\/[^/]+\/keys$/, { status: 201, body: { id: 'key1', type: 'API_KEY', name: apiKey.name } }],
  ['DELETE', /^\/usageplans\/[^/]+\/keys\/[^/]+$/, { status: 202 }],
  // List elements travel under `item`; the SDK maps them to `items`.
  ['GET', /^\/usageplans$/, { status: 200, body: { item: [{ id: 'p1', name: 'p1', apiStages: [] }] } }],
  // GetUsagePlan: every plan serves the example API, each on a stage of its own.
  [
    'GET',
    /^\/usageplans\/[^/]+$/,
    (path) => {
      const id = path.split('/')[2];
      return { status: 200, body: { id, name: id, apiStages: [{ apiId: exampleApiId, stage: id }] } };
    },
  ],
];
const dynamodbAnswers: Record<string, Recorded> = {
  PutItem: { status: 200, body: {} },
  UpdateItem: { status: 200, body: {} },
  GetItem: { status: 200, body: { Item: ownedItem } },
  Query: { status: 200, body: { Items: [ownedItem], Count: 1, ScannedCount: 1 } },
};
const conditionFailed: Recorded = {
  status: 400,
  body: { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed' },
};
/** The Basic-auth secret: the portal's pair. */
const basicAuthSecret: Recorded = {
  status: 200,
  body: {
    ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:BasicAuth-AbCdEf',
    Name: 'BasicAuth',
    SecretString: JSON.stringify([portalUser]),
    VersionId: 'v1',
  },
};

/** The recorded answer to one request; with `conditionFails`, a PutItem meets ConditionalCheckFailed (the app is taken). */
export const answerFor = (service: Service, request: HttpRequest, conditionFails = false): Recorded => {
  if (service === 'apigateway') {
    const route = apiGatewayAnswers.find(([method, path]) => method === request.method && path.test(request.path));
    if (!route) throw new Error(`No recorded answer for API Gateway ${request.method} ${request.path}`);
    const answer = route[2];
    return typeof answer === 'function' ? answer(request.path) : answer;
  }
  const operation = request.headers['x-amz-target']?.split('.')[1] ?? '';
  if (service === 'secretsmanager') {
    if (operation !== 'GetSecretValue') throw new Error(`No recorded answer for Secrets Manager ${operation}`);
    return basicAuthSecret;
  }
  if (conditionFails && operation === 'PutItem') return conditionFailed;
  const answer = dynamodbAnswers[operation];
  if (!answer) throw new Error(`No recorded answer for DynamoDB ${operation}`);
  return answer;
};

const contentTypes: Record<Service, string> = {
  apigateway: 'application/json',
  dynamodb: 'application/x-amz-json-1.0',
  secretsmanager: 'application/x-amz-json-1.1',
};

/** A recorded answer as the service sends it: status, headers and payload. */
export const onTheWire = (service: Service, { status, body }: Recorded) => {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const headers = { 'content-type': contentTypes[service], 'content-length': String(Buffer.byteLength(payload)), 'x-amzn-requestid': randomUUID() };
  return { status, headers, payload };
};

/** The service a request is for: JSON protocols name it in X-Amz-Target, API Gateway's REST paths do not. */
const serviceOf = (target: string | undefined): Service =>
  target?.startsWith('DynamoDB_') ? 'dynamodb' : target?.startsWith('secretsmanager.') ? 'secretsmanager' : 'apigateway';

/** A local HTTP server answering every service's recorded answers; functions reach it with AWS_ENDPOINT_URL. */
export const serveRecordedAws = async () => {
  const server = createServer((request, response) => {
    request.resume().on('end', () => {
      const headers = request.headers as Record<string, string | undefined>;
      const service = serviceOf(headers['x-amz-target']);
      try {
        const {
          status,
          headers: answerHeaders,
          payload,
        } = onTheWire(service, answerFor(service, { method: request.method ?? 'GET', path: (request.url ?? '/').split('?')[0]!, headers }));
        response.writeHead(status, answerHeaders).end(payload);
      } catch (error) {
        // The bench then fails on the request's status; this says which call had no answer.
        console.error((error as Error).message);
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: (error as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
