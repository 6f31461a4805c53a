import { CreateApiKeyCommand, CreateUsagePlanKeyCommand } from '@aws-sdk/client-api-gateway';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as create } from '../../../lambda/handlers/create-credentials.ts';
import { aws, awsError, resetAwsMocks } from '../../helpers/aws-mocks.ts';
import { captureLogs } from '../../helpers/log-capture.ts';
import { createRequest, lambdaContext, proxyEvent } from '../../helpers/portal.ts';

// This file reads the log stream, so its logger starts at INFO (set before the modules load).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

const keyValue = 'LeakCanaryKeyValue-0123456789abcdefghij';

describe('error responder: failures logged for the operator, answered in the contract', () => {
  beforeEach(() => {
    resetAwsMocks();
    aws.dynamodb.on(PutCommand).resolves({});
    aws.dynamodb.on(UpdateCommand).resolves({});
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key123', value: keyValue });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('logs an AWS failure with its name, and still no key value', async () => {
    // Prepare
    aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('InternalFailure', 500));

    // Act
    const logs = await captureLogs(() => create(proxyEvent({ body: createRequest() }), lambdaContext));

    // Assess
    expect(logs).toContain('InternalFailure');
    expect(logs).not.toContain(keyValue);
  });
});
