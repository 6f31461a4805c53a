import { setTimeout as sleep } from 'node:timers/promises';
import { APIGatewayClient, DeleteApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startFarSampleApi } from '../../../local/far-sample-api.ts';
import { main } from '../../../tools/verify.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { portalUser } from '../../helpers/portal.ts';

const { webhook, registry } = await startWebhookForTests();
const { sampleApi } = webhook;
// The sample API of eu-west-1, where the local policy places the Orders API (Europe).
const farSample = await startFarSampleApi(webhook);
afterAll(() => farSample.close());
const farFlags = ['--far-api-id', farSample.apiId, '--far-plan-id', farSample.usagePlanId, '--far-sample-url', farSample.url];

/** The flags every run shares (as the walk-through in docs/platform-teams.md gives them); `narrow` adds the client's narrowing. */
const sampleFlags = [
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
  '3',
];

const verify = async (args: string[], password = portalUser.password) => {
  let stdout = '';
  let stderr = '';
  const exitCode = await main(
    args,
    { ...process.env, WEBHOOK_USERNAME: portalUser.username, WEBHOOK_PASSWORD: password },
    { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) },
  );
  return { exitCode, stdout, stderr };
};

const stepNames = (stdout: string, outcome: 'ok' | 'skip') =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith(outcome))
    .map((line) =>
      line
        .replace(/^\w+\s+/, '')
        .replace(/ \(\d+ ms\)$/, '')
        .replace(/: give --.*$/, ''),
    );

const verifyKeys = (place?: string) => webhook.controlPlane.apiKeys(place).filter((key) => key.name.startsWith('portal-verify-'));

afterEach(() => webhook.controlPlane.clearFaults());

describe('portal-credentials verify against the local webhook', () => {
  it('runs every step, proving each update through the sample API, and leaves nothing behind', async () => {
    // Act
    const run = await verify([...sampleFlags, '--other-plan-id', sampleApi.otherPlanId, '--narrow-api-id', sampleApi.narrowApiId]);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(stepNames(run.stdout, 'ok')).toEqual([
      'read the Basic pair',
      'health',
      'create an API key',
      'call the sample API with the key',
      `update the API key: move it off the sample plan, to plan ${sampleApi.otherPlanId}`,
      'the sample plan no longer admits the key',
      'update the API key: back onto the sample plan',
      'the sample API admits the key again',
      'create client credentials',
      'call the sample API with a token',
      `update the client credentials: narrow them to API ${sampleApi.narrowApiId}'s scopes`,
      `the narrowed client no longer gets ${sampleApi.paymentsScope} past GET payments`,
      'revoke',
      'the revoked credentials are refused',
    ]);
    expect(verifyKeys()).toEqual([]);
    expect(run.stdout).not.toContain(portalUser.password);
  });

  it('fails the update step when the plan it moved the key to still admits it: the update must change what the sample API admits', async () => {
    // Act: the Silver plan serves the same API stage as the sample plan, so the move changes nothing the sample API sees.
    const run = await verify([...sampleFlags, '--other-plan-id', '2fm68w']);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}the sample plan no longer admits the key \(\d+ ms\): GET orders still accepts the key moved off its plan/);
    expect(verifyKeys()).toEqual([]);
  });

  it('says out loud that the updates are skipped without a plan to move the key to and an API to narrow the client to', async () => {
    // Act
    const run = await verify(sampleFlags);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(stepNames(run.stdout, 'skip')).toEqual(['update the API key', 'update the client credentials']);
  });

  it('exits 1 naming the failed step, and reports each clean-up revoke it really made', async () => {
    // Act: tokens asked for with a scope GET /payments does not accept.
    const run = await verify([...sampleFlags, '--scope', 'payments/write']);

    // Assess: the step is named, and both demo apps were revoked, each said so.
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe('error: the step "call the sample API with a token" failed\n');
    expect(run.stdout).toMatch(/FAIL {2}call the sample API with a token \(\d+ ms\): GET payments never accepted a token of the new client/);
    const [, key] = /clean-up: revoked (verify-[0-9a-f]+-key) \(revokeCredentials answered 204, attempt 1\)/.exec(run.stdout) ?? [];
    const [, client] = /clean-up: revoked (verify-[0-9a-f]+-client) \(revokeCredentials answered 204, attempt 1\)/.exec(run.stdout) ?? [];
    expect(await registry.get(key as string)).toMatchObject({ state: 'REVOKED' });
    expect(await registry.get(client as string)).toMatchObject({ state: 'REVOKED' });
    expect(verifyKeys()).toEqual([]);
  });

  it('exits 4 naming the leftover and the command that removes it when the clean-up revoke keeps failing, and claims no clean-up', async () => {
    // Prepare: API Gateway fails every DeleteApiKey, so neither the revoke step nor the clean-up can remove the key.
    webhook.controlPlane.injectFault('DeleteApiKey', { kind: 'error', status: 500, errorType: 'InternalFailure' }, 1000);

    // Act
    const run = await verify(sampleFlags);

    // Assess
    webhook.controlPlane.clearFaults();
    expect(run.exitCode).toBe(4);
    const [, key] =
      /clean-up FAILED: (verify-[0-9a-f]+-key) may still exist \(revokeCredentials answered 5\d\d [A-Z_]+, 3 attempts\)/.exec(run.stdout) ?? [];
    expect(key).toBeDefined();
    expect(run.stdout).not.toContain(`revoked ${key}`);
    expect(run.stderr).toContain('error: the step "revoke" failed\n');
    expect(run.stderr).toContain('error: clean-up left 1 demo credential(s) behind');
    expect(run.stderr).toContain(
      `curl -sS -u "$WEBHOOK_USERNAME:$WEBHOOK_PASSWORD" -H 'Content-Type: application/json' -d '{"credentialType":"API_KEY","appSlug":"${key}"}' ${webhook.url}/v1/revokeCredentials`,
    );
    expect(verifyKeys().map((leftover) => leftover.name)).toEqual([`portal-${key}`]);
    // The printed command removes it once AWS answers again.
    const removed = await fetch(`${webhook.url}/v1/revokeCredentials`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${portalUser.username}:${portalUser.password}`).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ credentialType: 'API_KEY', appSlug: key }),
    });
    expect(removed.status).toBe(204);
    expect(verifyKeys()).toEqual([]);
  });

  it('claims no clean-up with a wrong password: nothing was asked for', async () => {
    // Act
    const run = await verify(sampleFlags, 'not-the-password');

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}health \(\d+ ms\): GET v1\/health answered 401/);
    expect(run.stdout).not.toMatch(/revoked|cleaned up/);
    expect(run.stdout).toContain('clean-up: nothing to clean up, no credential was asked for');
  });

  it('prints exactly one JSON document on stdout with --json, the steps going to stderr', async () => {
    // Act
    const run = await verify([...sampleFlags, '--other-plan-id', sampleApi.otherPlanId, '--payments-api-id', 'none', '--json']);

    // Assess
    expect(run.exitCode).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document).toMatchObject({ passed: true, cleanUp: [], leftovers: [] });
    expect(document.steps.map((step: { outcome: string }) => step.outcome)).toEqual(Array(10).fill('ok'));
    expect(run.stderr).toMatch(/^ok {4}read the Basic pair/);
  });
});

describe('portal-credentials verify across two places', () => {
  it('proves one key value in two Regions: the sample API of each admits it, each refuses it once revoked, and no key is left in either', async () => {
    // Act
    const run = await verify([...sampleFlags, '--payments-api-id', 'none', '--other-plan-id', sampleApi.otherPlanId, ...farFlags]);

    // Assess
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(stepNames(run.stdout, 'ok')).toEqual([
      'read the Basic pair',
      'health',
      'create an API key for APIs in two places',
      'call the sample API with the key',
      'call the far sample API with the same key',
      `update the API key: move it off the sample plan, to plan ${sampleApi.otherPlanId}`,
      'the sample plan no longer admits the key',
      'update the API key: back onto the sample plan',
      'the sample API admits the key again',
      'the far sample API still admits the key',
      'revoke',
      'the revoked credentials are refused',
    ]);
    expect(verifyKeys()).toEqual([]);
    expect(verifyKeys(farSample.place)).toEqual([]);
  });

  it('fails when the far key is missing, and its clean-up revokes the app in every place', async () => {
    // Prepare: the far place's key is deleted by hand the moment it exists (its link's answer is held meanwhile), so the create still answers 200.
    webhook.controlPlane.injectFault('CreateUsagePlanKey', { kind: 'hang-answer', delayMs: 1000 }, 1, { place: farSample.place });
    const farGateway = new APIGatewayClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      endpoint: webhook.controlPlane.url,
    });
    const deleteFarKey = (async () => {
      for (let tries = 0; tries < 400; tries++) {
        const [farKey] = verifyKeys(farSample.place);
        if (farKey) return farGateway.send(new DeleteApiKeyCommand({ apiKey: farKey.id }));
        await sleep(5);
      }
      throw new Error('verify made no key in the far place');
    })();

    // Act
    const run = await verify([...sampleFlags, '--payments-api-id', 'none', ...farFlags]);

    // Assess
    await deleteFarKey;
    farGateway.destroy();
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/ok {4}call the sample API with the key/);
    expect(run.stdout).toMatch(
      /FAIL {2}call the far sample API with the same key \(\d+ ms\): GET orders of the far sample API never accepted the key/,
    );
    expect(run.stderr).toBe('error: the step "call the far sample API with the same key" failed\n');
    expect(run.stdout).toMatch(/clean-up: revoked verify-[0-9a-f]+-key \(revokeCredentials answered 204, attempt 1\)/);
    expect(verifyKeys()).toEqual([]);
    expect(verifyKeys(farSample.place)).toEqual([]);
  });

  it('refuses a far API without its plan and sample URL: the three flags go together', async () => {
    // Act
    const run = await verify([...sampleFlags, '--far-api-id', farSample.apiId]);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--far-api-id, --far-plan-id and --far-sample-url go together');
  });
});
