import { CognitoIdentityProviderClient, ListUserPoolClientsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { functionDefaults } from '#commons/defaults';
import { appClientName } from '#provisioning/provisioner';
import { leaseRunsOut } from '../../helpers/lease.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest } from '../../helpers/portal.ts';

// The functions' own lease, run out by hand where a test shows recovery after a failed call; a short wait.
const { webhook, registry, post } = await startWebhookForTests({ environment: { CLAIM_WAIT_SECONDS: '0.2' } });
const { cognitoProxy } = webhook;
// Straight to cognito-local: what exists, unaffected by the injected faults.
const cognito = new CognitoIdentityProviderClient({ endpoint: webhook.cognito.url });
afterAll(() => cognito.destroy());

/** More failures than the SDK has attempts, so the fault outlives its retries. */
const persistent = 10;
const createClient = 'CreateUserPoolClient';

const create = (appSlug: string) => post('/v1/createCredentials', createRequest({ appSlug, apis: [{ id: 'q8w2e4r6t1', usagePlans: [] }] }));
const clientsOf = async (appSlug: string) => {
  const { UserPoolClients = [] } = await cognito.send(new ListUserPoolClientsCommand({ UserPoolId: webhook.cognito.userPoolId }));
  return UserPoolClients.filter((client) => client.ClientName === appClientName({ appKey: appSlug }, functionDefaults.deploymentId));
};

/** How many calls of `operation` reached the proxy while `act` ran: other tests' calls do not count. */
const callsDuring = async <T>(operation: string, act: () => Promise<T>) => {
  const before = cognitoProxy.calls()[operation] ?? 0;
  const result = await act();
  return { result, calls: (cognitoProxy.calls()[operation] ?? 0) - before };
};

/** After any failure: Cognito and the registry agree, and the app holds at most one app client. */
const expectConsistent = async (appSlug: string) => {
  const clients = await clientsOf(appSlug);
  const record = await registry.get(appSlug);
  expect(clients.length).toBeLessThanOrEqual(1);
  if (record?.state === 'ACTIVE') expect(clients.map((client) => client.ClientId)).toEqual([record.credentialId]);
  if (!record || record.state === 'REVOKED') expect(clients).toHaveLength(0);
};

describe('faults on the client-credentials path', () => {
  afterEach(() => cognitoProxy.clearFaults());

  it('CreateUserPoolClient failing with 5xx: 502, the claim kept (the client may exist), and the retry after its lease completes', async () => {
    // Prepare
    cognitoProxy.injectFault(createClient, { kind: 'error', status: 500, errorType: 'InternalErrorException' }, persistent);

    // Act
    const failed = await create('cc-fault-5xx');
    cognitoProxy.clearFaults();
    const tooSoon = await create('cc-fault-5xx');
    await leaseRunsOut('cc-fault-5xx');
    const retried = await create('cc-fault-5xx');

    // Assess
    expect(failed.status).toBe(502);
    expect(failed.json.message).toMatch(/could not be undone yet; retry/);
    expect(tooSoon.status).toBe(409);
    expect(retried.status).toBe(200);
    expect((await clientsOf('cc-fault-5xx')).map((client) => client.ClientId)).toEqual([retried.json.clientId]);
    await expectConsistent('cc-fault-5xx');
  });

  // A slug of 122 to 128 characters gets a shortened name: the clean-up must search for that name, not the slug's.
  it.each([['cc-fault-network'], [`cc-fault-network-${'long'.repeat(27)}`]])(
    'CreateUserPoolClient losing its answer on every attempt: 502, the claim kept, and the retry after its lease removes every lost client (%s)',
    async (appSlug) => {
      // Prepare
      cognitoProxy.injectFault(createClient, { kind: 'drop-answer' }, persistent);

      // Act
      const failed = await create(appSlug);
      const lost = (await clientsOf(appSlug)).length;
      cognitoProxy.clearFaults();
      await leaseRunsOut(appSlug);
      const retried = await create(appSlug);

      // Assess
      expect(failed.status).toBe(502);
      expect(lost).toBeGreaterThan(1);
      expect(retried.status).toBe(200);
      expect((await clientsOf(appSlug)).map((client) => client.ClientId)).toEqual([retried.json.clientId]);
      await expectConsistent(appSlug);
    },
  );

  it("CreateUserPoolClient succeeding on its second attempt, then the search for the first attempt's client failing: 502, the claim kept, and the retry after its lease leaves one client", async () => {
    // Prepare: the first attempt's client exists unanswered; the new one is answered; listing the pool's clients fails.
    cognitoProxy.injectFault(createClient, { kind: 'drop-answer' }, 1);
    cognitoProxy.injectFault('ListUserPoolClients', { kind: 'error', status: 500, errorType: 'InternalErrorException' }, persistent);

    // Act
    const failed = await create('cc-fault-leftover-search');
    const made = (await clientsOf('cc-fault-leftover-search')).length;
    const claim = await registry.get('cc-fault-leftover-search');
    cognitoProxy.clearFaults();
    await leaseRunsOut('cc-fault-leftover-search');
    const retried = await create('cc-fault-leftover-search');

    // Assess
    expect(failed.status).toBe(502);
    expect(made).toBe(2);
    expect(claim?.state).toBe('PENDING');
    expect(retried.status).toBe(200);
    expect((await clientsOf('cc-fault-leftover-search')).map((client) => client.ClientId)).toEqual([retried.json.clientId]);
    await expectConsistent('cc-fault-leftover-search');
  });

  it('throttling that outlives the retries: 429 with Retry-After, and the retry completes', async () => {
    // Prepare: Cognito answers its rate limit with HTTP 400 TooManyRequestsException.
    cognitoProxy.injectFault(createClient, { kind: 'error', status: 400, errorType: 'TooManyRequestsException' }, persistent);

    // Act
    const throttled = await create('cc-fault-throttle');
    cognitoProxy.clearFaults();
    const retried = await create('cc-fault-throttle');

    // Assess
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('5');
    expect(retried.status).toBe(200);
    await expectConsistent('cc-fault-throttle');
  });

  it('a CreateUserPoolClient that hangs after making the client is retried: one client, answered 200', async () => {
    // Prepare: the first create is carried out, but its answer comes after the SDK gave up on it.
    cognitoProxy.injectFault(createClient, { kind: 'hang-answer', delayMs: 3_500 }, 1);

    // Act
    const { result: response, calls } = await callsDuring(createClient, () => create('cc-fault-hang'));

    // Assess
    expect(response.status).toBe(200);
    expect(calls).toBe(2);
    expect((await clientsOf('cc-fault-hang')).map((client) => client.ClientId)).toEqual([response.json.clientId]);
    await expectConsistent('cc-fault-hang');
  });

  it("Cognito's LimitExceededException is a full quota: 503 at once, without retries, and nothing kept", async () => {
    // Prepare
    cognitoProxy.injectFault(createClient, { kind: 'error', status: 400, errorType: 'LimitExceededException' }, persistent);

    // Act
    const { result: full, calls } = await callsDuring(createClient, () => create('cc-fault-quota'));
    cognitoProxy.clearFaults();
    const retried = await create('cc-fault-quota');

    // Assess
    expect(full.status).toBe(503);
    expect(full.json.code).toBe('QUOTA_EXCEEDED');
    expect(calls).toBe(1);
    expect(retried.status).toBe(200);
    await expectConsistent('cc-fault-quota');
  });

  it.each(['ScopeDoesNotExistException', 'InvalidOAuthFlowException', 'InvalidParameterException'])(
    'Cognito refusing the configuration (%s): 500 DEPLOYMENT_MISCONFIGURED naming the setting, never "retry", nothing made',
    async (errorType) => {
      // Prepare
      const appSlug = `cc-fault-${errorType.toLowerCase()}`;
      cognitoProxy.injectFault(createClient, { kind: 'error', status: 400, errorType }, 1);

      // Act
      const refused = await create(appSlug);

      // Assess
      expect(refused.status).toBe(500);
      expect(refused.json.code).toBe('DEPLOYMENT_MISCONFIGURED');
      expect(refused.json.message).toMatch(/USER_POOL_ID|CREDENTIAL_POLICY/);
      expect(refused.json.message).not.toMatch(/retry the request/i);
      expect(await registry.get(appSlug)).toBeUndefined();
      await expectConsistent(appSlug);
    },
  );

  it('a long app slug (128 characters) gets an app client named within 128 characters, found again by that name', async () => {
    // Prepare
    const appSlug = `${'c'.repeat(120)}-12345-7`;

    // Act
    const created = await create(appSlug);
    const replayed = await create(appSlug);
    const revoked = await post('/v1/revokeCredentials', { credentialType: 'CLIENT_CREDENTIALS', appSlug });

    // Assess
    expect(created.status).toBe(200);
    expect(replayed.json.clientId).toBe(created.json.clientId);
    expect(revoked.status).toBe(204);
    await expectConsistent(appSlug);
  });
});
