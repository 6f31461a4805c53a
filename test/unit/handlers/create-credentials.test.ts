import { CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lambda/handlers/create-credentials.ts';
import { aws, awsError, conditionFailed, registryHolds, resetAwsMocks } from '../../helpers/aws-mocks.ts';
import { expectResponseMatchesOpenApi } from '../../helpers/openapi.ts';
import { createRequest, lambdaContext, proxyEvent, withPlans } from '../../helpers/portal.ts';

const keyValue = 'k3yV4lu3-that-must-never-be-logged-0123456789';

const call = async (body: unknown, headers?: Record<string, string>) => {
  const response = await handler(proxyEvent({ body, headers }), lambdaContext);
  expectResponseMatchesOpenApi('POST', '/v1/createCredentials', response);
  return { ...response, json: response.body ? JSON.parse(response.body) : undefined };
};

/** A write of a capacity gauge (a reserved `#gauge#` item), not of the app's record. */
const isGauge = (input: { Key?: Record<string, unknown> }) => String(input.Key?.appKey).startsWith('#gauge#');

describe('POST /v1/createCredentials for API keys', () => {
  beforeEach(() => {
    resetAwsMocks();
    aws.dynamodb.on(PutCommand).resolves({});
    aws.dynamodb.on(UpdateCommand).resolves({});
    aws.dynamodb.on(DeleteCommand).resolves({});
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key123', value: keyValue });
    aws.apiGateway.on(CreateUsagePlanKeyCommand).resolves({});
    aws.apiGateway.on(DeleteApiKeyCommand).resolves({});
  });

  it('creates an enabled, tagged key, links it to every usage plan and answers the contract', async () => {
    // Act
    const response = await call(createRequest({ apis: withPlans('1el57v', '5ip91z') }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({ credentialType: 'API_KEY', apiKeyId: 'key123', apiKey: keyValue });
    expect(aws.apiGateway.commandCalls(CreateApiKeyCommand)[0]?.args[0].input).toMatchObject({
      name: 'portal-590d83b5c05f',
      enabled: true,
      tags: { 'managed-by': 'portal-credentials-webhook', 'portal-app-key': '590d83b5c05f', developer: 'email@mycompany.com' },
    });
    const links = aws.apiGateway.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input);
    expect(links).toEqual(
      expect.arrayContaining([
        { usagePlanId: '1el57v', keyId: 'key123', keyType: 'API_KEY' },
        { usagePlanId: '5ip91z', keyId: 'key123', keyType: 'API_KEY' },
      ]),
    );
    expect(links).toHaveLength(2);
    const activation = aws.dynamodb.commandCalls(UpdateCommand).find((c) => !isGauge(c.args[0].input))?.args[0].input;
    expect(activation?.ExpressionAttributeValues).toMatchObject({ ':active': 'ACTIVE', ':id': 'key123' });
  });

  it('claims the app in the registry before creating anything, and stores no secret there', async () => {
    // Act
    await call(createRequest());

    // Assess
    const claim = aws.dynamodb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(claim?.ConditionExpression).toContain('attribute_not_exists(appKey)');
    expect(claim?.Item).toMatchObject({ appKey: '590d83b5c05f', state: 'PENDING', credentialType: 'API_KEY', usagePlanIds: ['1el57v'] });
    expect(JSON.stringify(aws.dynamodb.calls().map((c) => c.args[0].input))).not.toContain(keyValue);
  });

  it('returns the credential an earlier call created instead of creating a second one', async () => {
    // Prepare
    aws.dynamodb.on(PutCommand).rejects(conditionFailed());
    const first = { ...createRequest(), appKey: '590d83b5c05f', apiIds: ['5aba4csvd4'], usagePlanIds: ['1el57v'], scopes: [] };
    registryHolds({ ...first, state: 'ACTIVE', credentialType: 'API_KEY', credentialId: 'key-first' });
    aws.apiGateway
      .on(GetApiKeyCommand, { apiKey: 'key-first', includeValue: true })
      .resolves({ id: 'key-first', value: 'first-value-aaaaaaaaaaaaaaaaaaaa' });

    // Act
    const response = await call(createRequest());

    // Assess
    expect(response.json).toEqual({ credentialType: 'API_KEY', apiKeyId: 'key-first', apiKey: 'first-value-aaaaaaaaaaaaaaaaaaaa' });
    expect(aws.apiGateway.commandCalls(CreateApiKeyCommand)).toHaveLength(0);
  });

  it('answers 422 naming an unknown usage plan before claiming the app or creating anything', async () => {
    // Act
    const response = await call(createRequest({ apis: withPlans('1el57v', 'nope42') }));

    // Assess
    expect(response.statusCode).toBe(422);
    expect(response.json).toEqual({ code: 'UNKNOWN_USAGE_PLAN', message: expect.stringContaining('nope42') });
    expect(aws.apiGateway.commandCalls(CreateApiKeyCommand)).toHaveLength(0);
    expect(aws.dynamodb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers 422 naming the plans when two share an API stage, before claiming the app or creating anything', async () => {
    // Act: 1el57v and 2fm68w both serve 5aba4csvd4/prod.
    const response = await call(createRequest({ apis: withPlans('1el57v', '2fm68w') }));

    // Assess
    expect(response.statusCode).toBe(422);
    expect(response.json).toEqual({
      code: 'USAGE_PLANS_SHARE_STAGE',
      message: expect.stringMatching(/1el57v and 2fm68w both serve API stage 5aba4csvd4\/prod/),
    });
    expect(aws.apiGateway.commandCalls(CreateApiKeyCommand)).toHaveLength(0);
    expect(aws.dynamodb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers 429 when API Gateway still throttles after the retries, leaving the claim released', async () => {
    // Prepare
    aws.apiGateway.on(CreateApiKeyCommand).rejects(awsError('TooManyRequestsException', 429));

    // Act
    const response = await call(createRequest());

    // Assess
    expect(response.statusCode).toBe(429);
    expect(response.headers?.['Retry-After']).toBe('5');
    expect(response.json.code).toBe('AWS_THROTTLED');
    expect(aws.dynamodb.commandCalls(DeleteCommand)).toHaveLength(1);
  });

  it('answers 502 without AWS error text when AWS fails, and never echoes the key', async () => {
    // Prepare
    aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('InternalFailure', 500));

    // Act
    const response = await call(createRequest());

    // Assess
    expect(response.statusCode).toBe(502);
    expect(response.json.code).toBe('AWS_FAILURE');
    expect(response.body).not.toMatch(/123456789012|InternalFailure/);
    expect(response.body).not.toContain(keyValue);
  });

  it('keeps the claim when the rollback fails too, so the next call can clean up', async () => {
    // Prepare
    aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('InternalFailure', 500));
    aws.apiGateway.on(DeleteApiKeyCommand).rejects(awsError('InternalFailure', 500));

    // Act
    const response = await call(createRequest());

    // Assess
    expect(response.statusCode).toBe(502);
    expect(response.json.message).toMatch(/retry/i);
    expect(aws.dynamodb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('deletes the key and then releases the claim when the registry cannot record it, answering 502', async () => {
    // Prepare: the write that turns the claim ACTIVE fails (the capacity gauges' writes still land).
    aws.dynamodb
      .on(UpdateCommand)
      .callsFake(async (input) => (isGauge(input) ? { Attributes: { count: 1 } } : Promise.reject(awsError('InternalServerError', 500))));

    // Act
    const response = await call(createRequest());

    // Assess
    expect(response.statusCode).toBe(502);
    expect(response.body).not.toContain(keyValue);
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand).map((c) => c.args[0].input)).toEqual([{ apiKey: 'key123' }]);
    const claimToken = aws.dynamodb.commandCalls(PutCommand)[0]?.args[0].input.Item?.claimToken;
    const release = aws.dynamodb.commandCalls(DeleteCommand).map((c) => c.args[0].input);
    expect(release).toEqual([expect.objectContaining({ Key: { appKey: '590d83b5c05f' }, ExpressionAttributeValues: { ':token': claimToken } })]);
  });

  it('answers 503 TIMED_OUT in the contract body a second before the function would time out', async () => {
    // Prepare: AWS hangs, and the invocation has 1.2 s left.
    aws.apiGateway.on(CreateApiKeyCommand).callsFake(() => new Promise(() => {}));
    const context = { ...lambdaContext, getRemainingTimeInMillis: () => 1_200 };

    // Act
    const response = await handler(proxyEvent({ body: createRequest() }), context);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ code: 'TIMED_OUT', message: expect.stringMatching(/retry/) });
    expect(response.headers?.['Retry-After']).toBe('5');
    expectResponseMatchesOpenApi('POST', '/v1/createCredentials', response);
  });

  it('answers 500 with a generic message when the registry misbehaves in an unexpected way', async () => {
    // Prepare
    aws.dynamodb.on(PutCommand).rejects(new TypeError('Cannot read properties of undefined'));

    // Act
    const response = await call(createRequest());

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.json).toEqual({ code: 'INTERNAL_ERROR', message: expect.any(String) });
    expect(response.body).not.toContain('Cannot read');
  });

  it('answers 400 with details for an invalid body, before touching AWS', async () => {
    // Act
    const response = await call({ appName: '', developer: 'not-an-email', apis: [] });

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.code).toBe('VALIDATION_FAILED');
    expect(response.json.details.map((d: { path: string }) => d.path).sort()).toEqual(['apis', 'appName', 'developer']);
    expect(aws.dynamodb.calls()).toHaveLength(0);
  });

  it('accepts and ignores fields the contract does not know', async () => {
    // Act
    const response = await call({
      ...createRequest(),
      portalVersion: 7,
      apis: [{ id: '5aba4csvd4', stage: 'prod', usagePlans: [{ id: '1el57v', tier: 'x' }] }],
    });

    // Assess
    expect(response.statusCode).toBe(200);
  });
});
