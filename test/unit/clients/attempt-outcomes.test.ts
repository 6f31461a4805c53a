import { APIGatewayClient, CreateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { failedAttemptMayHaveActed, recordAttemptOutcomes } from '#clients/attempt-outcomes';
import { awsClientSettings } from '#clients/retry-settings';
import { startAwsControlPlane } from '../../../local/stand-ins/aws-control-plane.ts';

const controlPlane = await startAwsControlPlane();
const client = new APIGatewayClient({
  ...awsClientSettings,
  retryMode: 'standard',
  requestHandler: { ...awsClientSettings.requestHandler, requestTimeout: 300 },
  endpoint: controlPlane.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
client.middlewareStack.use(recordAttemptOutcomes);
afterAll(async () => {
  client.destroy();
  await controlPlane.close();
});

const createKey = () => client.send(new CreateApiKeyCommand({ name: 'portal-attempts', enabled: true }));
const outcome = <T>(call: Promise<T>) =>
  call.then(
    (output) => ({ output, error: undefined }),
    (error: unknown) => ({ output: undefined, error }),
  );

describe('recordAttemptOutcomes', () => {
  afterEach(() => controlPlane.clearFaults());

  it('remembers an attempt whose answer was lost though the call then failed with a refusal', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'drop-answer' }, 1);
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 400, errorType: 'BadRequestException' }, 1);

    // Act
    const { error } = await outcome(createKey());

    // Assess
    expect((error as Error).name).toBe('BadRequestException');
    expect(failedAttemptMayHaveActed(error)).toBe(true);
  });

  it('remembers an attempt that timed out, on the output of the retry that succeeded', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'hang-answer', delayMs: 600 }, 1);

    // Act
    const { output } = await outcome(createKey());

    // Assess
    expect(output?.$metadata.attempts).toBe(2);
    expect(failedAttemptMayHaveActed(output)).toBe(true);
  });

  it('knows that throttled and refused attempts made nothing', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 429, errorType: 'TooManyRequestsException' }, 1);

    // Act
    const { output } = await outcome(createKey());
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 400, errorType: 'BadRequestException' }, 1);
    const { error } = await outcome(createKey());

    // Assess
    expect(output?.$metadata.attempts).toBe(2);
    expect(failedAttemptMayHaveActed(output)).toBe(false);
    expect(failedAttemptMayHaveActed(error)).toBe(false);
  });

  it('keeps each call to its own attempts, however calls interleave', async () => {
    // Prepare: the first of two concurrent creates loses its answer.
    controlPlane.injectFault('CreateApiKey', { kind: 'drop-answer' }, 1);

    // Act
    const outputs = await Promise.all([createKey(), createKey()]);

    // Assess
    expect(outputs.map((output) => failedAttemptMayHaveActed(output)).sort()).toEqual([false, true]);
  });

  it('knows nothing of a call that did not go through the middleware', () => {
    // Act + Assess
    expect(failedAttemptMayHaveActed({ $metadata: { attempts: 3 } })).toBeUndefined();
  });
});
