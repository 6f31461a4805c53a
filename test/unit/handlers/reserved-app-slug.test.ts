import { beforeEach, describe, expect, it } from 'vitest';
import { handler as create } from '../../../lambda/handlers/create-credentials.ts';
import { handler as revoke } from '../../../lambda/handlers/revoke-credentials.ts';
import { handler as update } from '../../../lambda/handlers/update-credentials.ts';
import { aws, resetAwsMocks } from '../../helpers/aws-mocks.ts';
import { expectResponseMatchesOpenApi } from '../../helpers/openapi.ts';
import { createRequest, lambdaContext, proxyEvent } from '../../helpers/portal.ts';

/** Slug-less apps are keyed `sha256-<32 hex>`: a slug of that form could reach another developer's app. */
const reservedSlug = 'sha256-3f2a9c0d51e84b7a6c9d0e1f2a3b4c5d';

const routes = [
  { name: 'createCredentials', handler: create, body: createRequest({ appSlug: reservedSlug }) },
  { name: 'updateCredentials', handler: update, body: { ...createRequest({ appSlug: reservedSlug }), credentialType: 'API_KEY' } },
  { name: 'revokeCredentials', handler: revoke, body: { credentialType: 'API_KEY', appSlug: reservedSlug } },
];

describe('an appSlug of the form slug-less apps are keyed with', () => {
  beforeEach(() => resetAwsMocks());

  it.each(routes)('is refused by $name with 400, saying the form is reserved, before any AWS call', async ({ name, handler, body }) => {
    // Act
    const response = await handler(proxyEvent({ path: `/v1/${name}`, body }), lambdaContext);

    // Assess
    expectResponseMatchesOpenApi('POST', `/v1/${name}`, response);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      code: 'VALIDATION_FAILED',
      message: expect.any(String),
      details: [{ path: 'appSlug', problem: expect.stringMatching(/reserved for apps without a slug/) }],
    });
    expect(aws.dynamodb.calls()).toHaveLength(0);
    expect(aws.apiGateway.calls()).toHaveLength(0);
  });
});
