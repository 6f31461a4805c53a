import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { CreateCredentialsRequest } from '#contract/schemas';

/** Request bodies as the portal sends them, with the contract example's ids. */
export const exampleApiId = '5aba4csvd4';
export const examplePlanId = '1el57v';

export const createRequest = (overrides: Partial<CreateCredentialsRequest> = {}): CreateCredentialsRequest => ({
  appName: 'my new aws app',
  appSlug: '590d83b5c05f',
  developer: 'email@mycompany.com',
  apis: [{ id: exampleApiId, usagePlans: [{ id: examplePlanId }] }],
  ...overrides,
});

export const withPlans = (...planIds: string[]) => [{ id: exampleApiId, usagePlans: planIds.map((id) => ({ id })) }];

export const portalUser = { username: 'portal', password: 'correct-horse-battery-staple' };
export const rotatedUser = { username: 'portal-2026', password: 'second-pair-during-rotation' };

export const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

/** An API Gateway proxy event for a route, authenticated as the portal unless told otherwise. */
export const proxyEvent = (
  options: { method?: string; path?: string; body?: unknown; headers?: Record<string, string>; multiValueHeaders?: Record<string, string[]> } = {},
): APIGatewayProxyEvent => {
  const headers = { 'Content-Type': 'application/json', Authorization: basic(portalUser.username, portalUser.password), ...options.headers };
  return {
    httpMethod: options.method ?? 'POST',
    path: options.path ?? '/v1/createCredentials',
    resource: options.path ?? '/v1/createCredentials',
    headers,
    multiValueHeaders: options.multiValueHeaders ?? Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    body: options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    isBase64Encoded: false,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'test-request' } as APIGatewayProxyEvent['requestContext'],
  };
};

export const lambdaContext = { functionName: 'test', awsRequestId: 'test-request', getRemainingTimeInMillis: () => 29_000 } as Context;
