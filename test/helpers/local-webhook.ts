import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll } from 'vitest';
import { Registry } from '#provisioning/registry';
import { type LocalWebhookOptions, startLocalWebhook } from '../../local/local-webhook.ts';
import { expectResponseMatchesOpenApi } from './openapi.ts';
import { basic, portalUser } from './portal.ts';

export interface PortalResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/**
 * The local webhook for one test file (its handlers read configuration once per
 * process), with a client that speaks as the portal and checks every answer
 * against the OpenAPI document.
 */
export const startWebhookForTests = async (options: Partial<LocalWebhookOptions> = {}) => {
  const webhook = await startLocalWebhook({
    basicCredentials: [portalUser],
    ...options,
    environment: { POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT', ...options.environment },
  });
  afterAll(() => webhook.close());

  const send = async (
    method: 'GET' | 'POST',
    route: string,
    body?: unknown,
    init: { authorization?: string | null; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.authorization !== null) headers.Authorization = init.authorization ?? basic(portalUser.username, portalUser.password);
    if (body !== undefined) headers['Content-Type'] ??= 'application/json';
    const response = await fetch(`${webhook.url}${route}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    expectResponseMatchesOpenApi(method, route, { statusCode: response.status, headers: Object.fromEntries(response.headers), body: text });
    return { status: response.status, headers: response.headers, text, json: text ? JSON.parse(text) : undefined } satisfies PortalResponse;
  };

  // A second view of the registry table, for assertions on what the webhook recorded.
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: webhook.dynamoDbUrl }));
  afterAll(() => documents.destroy());

  return {
    webhook,
    registry: new Registry(documents, webhook.tableName),
    post: (route: string, body: unknown, init?: Parameters<typeof send>[3]) => send('POST', route, body, init),
    get: (route: string, init?: Parameters<typeof send>[3]) => send('GET', route, undefined, init),
  };
};
