import { describe, expect, it } from 'vitest';
import { main } from '../../../tools/history.ts';
import { outOfBand, runAuditCommand } from '../../helpers/audit.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, portalUser, withPlans } from '../../helpers/portal.ts';

const { webhook, post } = await startWebhookForTests();
const aws = outOfBand(webhook);

/** The history command, once the registry's stream has delivered every change so far (a second or so on AWS). */
const history = async (...args: string[]) => {
  await webhook.historyStream.drained();
  let stdout = '';
  let stderr = '';
  const exitCode = await main([...args, '--table', webhook.historyTableName], process.env, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  });
  return { exitCode, stdout, stderr };
};

describe('the history of every change', () => {
  it('records create, update and revoke with route, principal, grant before and after, outcome and request id; never a secret', async () => {
    // Prepare and act: the portal's three changes.
    const created = await post('/v1/createCredentials', createRequest({ appSlug: 'history-app' }));
    const { apiKeyId, apiKey } = created.json;
    await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'history-app', apis: withPlans('2fm68w') }),
      credentialType: 'API_KEY',
      apiKeyId,
    });
    await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId });

    // Act
    const printed = await history('history-app', '--json');

    // Assess: newest first, each change as it happened.
    expect(printed.exitCode).toBe(0);
    const entries = JSON.parse(printed.stdout);
    const common = {
      appKey: 'history-app',
      principal: `basic:${portalUser.username}`,
      credentialType: 'API_KEY',
      credentialId: apiKeyId,
      outcome: 'OK',
      requestId: expect.any(String),
    };
    expect(entries).toEqual([
      {
        ...common,
        at: expect.any(String),
        action: 'REVOKE',
        source: 'POST /v1/revokeCredentials',
        before: expect.objectContaining({ usagePlanIds: ['2fm68w'] }),
      },
      {
        ...common,
        at: expect.any(String),
        action: 'UPDATE',
        source: 'POST /v1/updateCredentials',
        before: expect.objectContaining({ usagePlanIds: ['1el57v'] }),
        after: expect.objectContaining({ usagePlanIds: ['2fm68w'] }),
      },
      {
        ...common,
        at: expect.any(String),
        action: 'CREATE',
        source: 'POST /v1/createCredentials',
        after: { apiIds: ['5aba4csvd4'], usagePlanIds: ['1el57v'], scopes: [] },
      },
    ]);
    expect(new Set(entries.map((entry: { requestId: string }) => entry.requestId)).size).toBe(3);
    expect(printed.stdout).not.toContain(apiKey);
    expect(printed.stdout).not.toContain(portalUser.password);

    // The table a person reads.
    const table = await history('history-app');
    expect(table.stdout).toMatch(/UPDATE\s+POST \/v1\/updateCredentials\s+basic:portal\s+\w+\s+plans 1el57v\s+plans 2fm68w\s+OK/);
  });

  it('records a change that failed on AWS’s side with its error code', async () => {
    // Prepare: the key is made, but linking it fails on every attempt (the create rolls back).
    webhook.controlPlane.injectFault('CreateUsagePlanKey', { kind: 'error', status: 500, errorType: 'InternalFailure' }, 10);

    // Act
    const failed = await post('/v1/createCredentials', createRequest({ appSlug: 'failing-app' }));
    const printed = JSON.parse((await history('failing-app', '--json')).stdout);

    // Assess
    webhook.controlPlane.clearFaults();
    expect(failed.status).toBe(502);
    expect(printed).toEqual([
      expect.objectContaining({ action: 'CREATE', outcome: 'AWS_FAILURE', source: 'POST /v1/createCredentials', principal: 'basic:portal' }),
    ]);
  });

  it('records the audit’s repairs, crediting the AWS identity that made them (STS GetCallerIdentity) and naming the run', async () => {
    // Prepare: a key deleted by hand.
    const { apiKeyId } = (await post('/v1/createCredentials', createRequest({ appSlug: 'repaired-app' }))).json;
    await aws.deleteKey(apiKeyId);

    // Act
    await runAuditCommand(webhook, '--repair', '--apply', '--history-table', webhook.historyTableName);
    const entries = JSON.parse((await history('repaired-app', '--json')).stdout);

    // Assess
    expect(entries[0]).toMatchObject({
      action: 'MARK_REVOKED',
      source: 'repair',
      principal: 'arn:aws:iam::000000000000:user/local-operator',
      requestId: expect.stringMatching(/^audit-/),
      credentialId: apiKeyId,
    });
  });

  it('finds an app sent without a slug by its name and developer, and says when there is nothing', async () => {
    const printed = await history('--app-name', 'nameless', '--developer', 'dev@example.com');
    expect(printed.exitCode).toBe(0);
    expect(printed.stdout).toMatch(/^No history for app sha256-[0-9a-f]{32}\.\n$/);
  });
});
