import { describe, expect, it } from 'vitest';
import { main } from '../../../tools/verify.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { portalUser } from '../../helpers/portal.ts';

const { webhook, registry } = await startWebhookForTests();
const { sampleApi } = webhook;

const verify = async (...overrides: string[]) => {
  let stdout = '';
  let stderr = '';
  const exitCode = await main(
    [
      '--url',
      webhook.url,
      '--sample-url',
      sampleApi.url,
      '--sample-api-id',
      sampleApi.ordersApiId,
      '--sample-plan-id',
      sampleApi.usagePlanId,
      '--payments-api-id',
      sampleApi.paymentsApiId,
      '--scope',
      sampleApi.paymentsScope,
      '--propagation-seconds',
      '5',
      ...overrides,
    ],
    { ...process.env, WEBHOOK_USERNAME: portalUser.username, WEBHOOK_PASSWORD: portalUser.password },
    { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) },
  );
  return { exitCode, stdout, stderr };
};

describe('npm run verify against npm start', () => {
  it('runs every step of the walk-through and passes, leaving nothing behind', async () => {
    // Act
    const run = await verify();

    // Assess
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(
      run.stdout
        .split('\n')
        .filter((line) => line.startsWith('ok'))
        .map((line) => line.replace(/^ok\s+/, '').replace(/ \(\d+ ms\)$/, '')),
    ).toEqual([
      'read the Basic pair',
      'health',
      'create an API key',
      'call the sample API with the key',
      'update the API key',
      'create client credentials',
      'call the sample API with a token',
      'update the client credentials',
      'revoke',
      'the revoked credentials are refused',
    ]);
    expect(webhook.controlPlane.apiKeys().filter((key) => key.name.startsWith('portal-verify-'))).toEqual([]);
    expect(run.stdout).not.toContain(portalUser.password);
  });

  it('exits non-zero naming the failed step, and cleans up what it made before it', async () => {
    // Act: tokens asked for with a scope GET /payments does not accept.
    const run = await verify('--scope', 'payments/write');

    // Assess: the step is named, and both demo apps were revoked.
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe('error: the step "call the sample API with a token" failed\n');
    expect(run.stdout).toMatch(/FAIL {2}call the sample API with a token \(\d+ ms\): GET payments never accepted a token of the new client/);
    const [, key, client] = /revoked (verify-[0-9a-f]+-key) and (verify-[0-9a-f]+-client)/.exec(run.stdout) ?? [];
    expect(await registry.get(key as string)).toMatchObject({ state: 'REVOKED' });
    expect(await registry.get(client as string)).toMatchObject({ state: 'REVOKED' });
    expect(webhook.controlPlane.apiKeys().filter((apiKey) => apiKey.name === `portal-${key}`)).toEqual([]);
  });
});
