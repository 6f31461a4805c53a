import {
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeyCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as revoke } from '../../../lambda/handlers/revoke-credentials.ts';
import { handler as update } from '../../../lambda/handlers/update-credentials.ts';
import { awsError } from '../../helpers/aws-errors.ts';
import { aws, registryHolds, resetAwsMocks } from '../../helpers/aws-mocks.ts';
import { expectResponseMatchesOpenApi } from '../../helpers/openapi.ts';
import { createRequest, lambdaContext, proxyEvent, withPlans } from '../../helpers/portal.ts';

const owned = {
  appKey: '590d83b5c05f',
  appSlug: '590d83b5c05f',
  developer: 'email@mycompany.com',
  state: 'ACTIVE',
  credentialType: 'API_KEY',
  credentialId: 'key123',
  usagePlanIds: ['1el57v'],
};

const callRoute = async (route: 'updateCredentials' | 'revokeCredentials', body: unknown) => {
  const handler = route === 'updateCredentials' ? update : revoke;
  const response = await handler(proxyEvent({ path: `/v1/${route}`, body }), lambdaContext);
  expectResponseMatchesOpenApi('POST', `/v1/${route}`, response);
  return { ...response, json: response.body ? JSON.parse(response.body) : undefined };
};

describe('POST /v1/updateCredentials', () => {
  beforeEach(() => {
    resetAwsMocks();
    registryHolds(owned);
    aws.dynamodb.on(UpdateCommand).resolves({ Attributes: owned });
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: '1el57v' }, { id: '3gn79x' }] });
    aws.apiGateway.on(CreateUsagePlanKeyCommand).resolves({});
    aws.apiGateway.on(DeleteUsagePlanKeyCommand).resolves({});
    aws.apiGateway.on(GetApiKeyCommand).resolves({ id: 'key123' });
  });

  it('adds and removes usage-plan links so they match the request, touching none that already match', async () => {
    // Act
    const response = await callRoute('updateCredentials', {
      ...createRequest({ apis: withPlans('1el57v', '5ip91z') }),
      credentialType: 'API_KEY',
      apiKeyId: 'key123',
    });

    // Assess
    expect(response.statusCode).toBe(204);
    expect(aws.apiGateway.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['5ip91z']);
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['3gn79x']);
    const recorded = aws.dynamodb.commandCalls(UpdateCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':plans']);
    expect(recorded.filter(Boolean)).toEqual([['1el57v', '5ip91z']]);
  });

  it('finds the credential by app slug when the request carries no id', async () => {
    // Act
    const response = await callRoute('updateCredentials', { ...createRequest(), credentialType: 'API_KEY' });

    // Assess
    expect(response.statusCode).toBe(204);
    expect(aws.dynamodb.commandCalls(GetCommand)[0]?.args[0].input.Key).toEqual({ appKey: '590d83b5c05f' });
  });

  it('answers 404 for a key this webhook did not create, and changes nothing', async () => {
    // Act
    const response = await callRoute('updateCredentials', { ...createRequest(), credentialType: 'API_KEY', apiKeyId: 'someone-elses' });

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.json.code).toBe('CREDENTIAL_NOT_FOUND');
    expect(aws.apiGateway.calls()).toHaveLength(0);
  });

  it('answers 409 when the id belongs to another app than the slug names', async () => {
    // Act
    const response = await callRoute('updateCredentials', {
      ...createRequest({ appSlug: 'other-app' }),
      credentialType: 'API_KEY',
      apiKeyId: 'key123',
    });

    // Assess
    expect(response.statusCode).toBe(409);
    expect(aws.apiGateway.calls()).toHaveLength(0);
  });

  it('answers 400 when the id does not go with the credential type', async () => {
    // Act
    const response = await callRoute('updateCredentials', { ...createRequest(), credentialType: 'API_KEY', clientId: 'abc' });

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.details[0].path).toBe('clientId');
  });
});

describe('POST /v1/revokeCredentials', () => {
  beforeEach(() => {
    resetAwsMocks();
    registryHolds(owned);
    aws.dynamodb.on(UpdateCommand).resolves({ Attributes: owned });
    aws.apiGateway.on(DeleteApiKeyCommand).resolves({});
  });

  it('deletes the key and marks the registry entry revoked', async () => {
    // Act
    const response = await callRoute('revokeCredentials', { credentialType: 'API_KEY', apiKeyId: 'key123' });

    // Assess
    expect(response.statusCode).toBe(204);
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand)[0]?.args[0].input).toEqual({ apiKey: 'key123' });
    const writes = aws.dynamodb.commandCalls(UpdateCommand).map((call) => call.args[0].input.ExpressionAttributeValues);
    expect(writes.at(-1)).toMatchObject({ ':revoked': 'REVOKED' });
  });

  it('answers 204 for a key neither the registry nor AWS knows, and deletes nothing', async () => {
    // Prepare
    aws.apiGateway.on(GetApiKeyCommand).rejects(awsError('NotFoundException', 404));

    // Act
    const response = await callRoute('revokeCredentials', { credentialType: 'API_KEY', apiKeyId: 'not-ours' });

    // Assess
    expect(response.statusCode).toBe(204);
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand)).toHaveLength(0);
  });

  it('finds a key the registry index does not show yet through its app tag, and revokes it', async () => {
    // Prepare: the index lags (no hit by id), the table holds the app the key's tag names
    aws.dynamodb.on(QueryCommand).resolves({ Items: [] });
    aws.apiGateway
      .on(GetApiKeyCommand)
      .resolves({ id: 'key123', tags: { 'managed-by': 'portal-credentials-webhook', 'portal-app-key': owned.appKey } });

    // Act
    const response = await callRoute('revokeCredentials', { credentialType: 'API_KEY', apiKeyId: 'key123' });

    // Assess
    expect(response.statusCode).toBe(204);
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand)[0]?.args[0].input).toEqual({ apiKey: 'key123' });
  });

  it('answers 409, never 204, for a key of this webhook that exists but that no record shows yet', async () => {
    // Prepare
    aws.dynamodb.on(QueryCommand).resolves({ Items: [] });
    aws.apiGateway
      .on(GetApiKeyCommand)
      .resolves({ id: 'key999', tags: { 'managed-by': 'portal-credentials-webhook', 'portal-app-key': 'another-app' } });

    // Act
    const response = await callRoute('revokeCredentials', { credentialType: 'API_KEY', apiKeyId: 'key999' });

    // Assess
    expect(response.statusCode).toBe(409);
    expect(response.json.code).toBe('CREDENTIAL_NOT_SETTLED');
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand)).toHaveLength(0);
  });

  it('answers 204 again for a credential already revoked', async () => {
    // Prepare
    registryHolds({ ...owned, state: 'REVOKED' });

    // Act
    const response = await callRoute('revokeCredentials', { credentialType: 'API_KEY', apiKeyId: 'key123' });

    // Assess
    expect(response.statusCode).toBe(204);
    expect(aws.apiGateway.calls()).toHaveLength(0);
  });

  it('answers 400 when the request names no credential at all', async () => {
    // Act
    const response = await callRoute('revokeCredentials', { credentialType: 'API_KEY' });

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.details[0].problem).toMatch(/apiKeyId, appSlug, or appName with developer/);
  });
});
