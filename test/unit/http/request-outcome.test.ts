import { CreateApiKeyCommand, CreateUsagePlanKeyCommand } from '@aws-sdk/client-api-gateway';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '#commons/powertools';
import { handler as create } from '../../../lambda/handlers/create-credentials.ts';
import { aws, awsError, resetAwsMocks } from '../../helpers/aws-mocks.ts';
import { captureLogs } from '../../helpers/log-capture.ts';
import { basic, createRequest, lambdaContext, portalUser, proxyEvent } from '../../helpers/portal.ts';

// This file reads the log stream, so its logger starts at INFO (set before the modules load).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

const keyValue = 'LeakCanaryKeyValue-0123456789abcdefghij';

describe('request outcome: one log line and one metric per request, no secrets', () => {
  beforeEach(() => {
    resetAwsMocks();
    aws.dynamodb.on(PutCommand).resolves({});
    aws.dynamodb.on(UpdateCommand).resolves({});
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key123', value: keyValue });
    aws.apiGateway.on(CreateUsagePlanKeyCommand).resolves({});
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('records route, outcome and credential type for a created key, and logs neither key nor password', async () => {
    // Prepare
    const addDimensions = vi.spyOn(metrics, 'addDimensions');
    const addMetric = vi.spyOn(metrics, 'addMetric');

    // Act
    const logs = await captureLogs(() => create(proxyEvent({ body: createRequest() }), lambdaContext));

    // Assess
    expect(addDimensions).toHaveBeenCalledWith({ route: '/v1/createCredentials', outcome: 'OK', credentialType: 'API_KEY' });
    expect(addMetric).toHaveBeenCalledWith('Requests', 'Count', 1);
    expect(logs).toContain('"message":"Request finished"');
    expect(logs).toContain('"correlation_id":"test-request"');
    expect(logs).not.toContain(keyValue);
    expect(logs).not.toContain(portalUser.password);
    expect(logs).not.toContain(Buffer.from(`${portalUser.username}:${portalUser.password}`).toString('base64'));
  });

  it('records the error code as outcome, and logs no presented password', async () => {
    // Prepare
    const addDimensions = vi.spyOn(metrics, 'addDimensions');
    const guessed = 'Sup3rS3cretGuessThatMustNotLeak';

    // Act
    const logs = await captureLogs(() =>
      create(proxyEvent({ body: createRequest(), headers: { Authorization: basic('portal', guessed) } }), lambdaContext),
    );

    // Assess
    expect(addDimensions).toHaveBeenCalledWith({ route: '/v1/createCredentials', outcome: 'UNAUTHORIZED', credentialType: 'NONE' });
    expect(logs).toContain('"outcome":"UNAUTHORIZED"');
    expect(logs).not.toContain(guessed);
  });

  it('records an AWS failure by its error code, and still logs no key value', async () => {
    // Prepare
    aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('InternalFailure', 500));

    // Act
    const logs = await captureLogs(() => create(proxyEvent({ body: createRequest() }), lambdaContext));

    // Assess
    expect(logs).toContain('"outcome":"AWS_FAILURE"');
    expect(logs).not.toContain(keyValue);
  });
});
