import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { withCaller } from '#history/caller';
import { HistoryStore } from '#history/history-store';
import { outOfBand, pendingClaim, runAuditCommand } from '../../helpers/audit.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, withPlans } from '../../helpers/portal.ts';

const { webhook, post, registry } = await startWebhookForTests();
const aws = outOfBand(webhook);
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: webhook.dynamoDbUrl }));
afterAll(() => documents.destroy());
const store = new HistoryStore(documents, webhook.historyTableName, 365);

/** An app's entries, newest first, once the registry's stream has delivered every change so far. */
const historyOf = async (appKey: string) => {
  await webhook.historyStream.drained();
  return store.forApp(appKey);
};

const createKey = async (appSlug: string, ...plans: string[]) =>
  (await post('/v1/createCredentials', createRequest({ appSlug, apis: withPlans(...(plans.length ? plans : ['1el57v'])) }))).json.apiKeyId as string;

/** A create that claimed the app and died a minute ago. */
const deadClaim = async (appKey: string) => {
  expect((await registry.claim(pendingClaim(appKey), Date.now())).claimed).toBe(true);
};

describe('every registry change is recorded, whoever makes it', () => {
  it('records a change a tool makes through the Registry without ever calling the history, crediting the tool', async () => {
    // Prepare: a credential the portal made.
    const apiKeyId = await createKey('tool-app', '1el57v');

    // Act: a future operator tool moves the grant, as the webhook would, and writes no history.
    const tool = { source: 'tool:move-plan', principal: 'arn:aws:iam::000000000000:user/ops', requestId: 'tool-run-1' };
    await withCaller(tool, async () => {
      const claimToken = randomUUID();
      expect((await registry.hold('tool-app', apiKeyId, { claimToken, leaseExpiresAt: Date.now() + 60_000 }, Date.now())).held).toBe(true);
      const grant = { apiIds: ['5aba4csvd4'], usagePlanIds: ['2fm68w'], scopes: [] };
      expect(await registry.recordGrant('tool-app', claimToken, grant, new Date().toISOString(), { action: 'UPDATE' })).toBe(true);
    });

    // Assess: its entry, and the hold (a step, not a change) made none.
    const entries = await historyOf('tool-app');
    expect(entries.map((entry) => entry.action)).toEqual(['UPDATE', 'CREATE']);
    expect(entries[0]).toMatchObject({
      ...tool,
      credentialId: apiKeyId,
      before: { usagePlanIds: ['1el57v'] },
      after: { usagePlanIds: ['2fm68w'] },
      outcome: 'OK',
    });
  });

  it('records a change written around the Registry class, as UNNAMED_CHANGE by an unknown writer', async () => {
    // Prepare
    await createKey('raw-app', '1el57v');

    // Act: a raw write that names nobody.
    await documents.send(
      new UpdateCommand({
        TableName: webhook.tableName,
        Key: { appKey: 'raw-app' },
        UpdateExpression: 'SET usagePlanIds = :plans',
        ExpressionAttributeValues: { ':plans': ['3gn79x'] },
      }),
    );

    // Assess
    const [latest] = await historyOf('raw-app');
    expect(latest).toMatchObject({
      action: 'UNNAMED_CHANGE',
      source: 'unknown',
      principal: 'unknown',
      before: { usagePlanIds: ['1el57v'] },
      after: { usagePlanIds: ['3gn79x'] },
    });
  });

  it('makes no duplicate when the stream delivers a batch again', async () => {
    // Prepare: a create and an update, recorded once.
    const apiKeyId = await createKey('redelivered-app', '1el57v');
    await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'redelivered-app', apis: withPlans('2fm68w') }),
      credentialType: 'API_KEY',
      apiKeyId,
    });
    const recorded = await historyOf('redelivered-app');
    const records = webhook.historyStream.delivered().filter((record) => record.dynamodb?.Keys?.appKey?.S === 'redelivered-app');

    // Act: Lambda hands the same records over again, twice.
    const answers = [await webhook.historyStream.redeliver(records), await webhook.historyStream.redeliver(records)];

    // Assess
    expect(answers).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(recorded.map((entry) => entry.action)).toEqual(['UPDATE', 'CREATE']);
    expect(await historyOf('redelivered-app')).toEqual(recorded);
  });

  it('records a repeated create that changes the grant with the old grant before and the new one after', async () => {
    // Prepare
    await createKey('repeated-app', '1el57v');

    // Act
    await createKey('repeated-app', '2fm68w');

    // Assess
    const [latest] = await historyOf('repeated-app');
    expect(latest).toMatchObject({
      action: 'UPDATE',
      source: 'POST /v1/createCredentials',
      before: { usagePlanIds: ['1el57v'] },
      after: { usagePlanIds: ['2fm68w'] },
    });
  });

  it('records the deletions that change no record: an orphan and a dead create’s leftovers, naming the app and every id deleted', async () => {
    // Prepare: an orphan tagged with its app, and a dead create that left two keys.
    const orphan = await aws.createWebhookLikeKey('orphan-app');
    await deadClaim('stuck-app');
    const leftovers = [await aws.createWebhookLikeKey('stuck-app'), await aws.createWebhookLikeKey('stuck-app')];

    // Act
    const audit = await runAuditCommand(webhook, '--repair', '--apply', '--history-table', webhook.historyTableName);

    // Assess
    expect(audit.exitCode).toBe(0);
    expect((await historyOf('orphan-app'))[0]).toMatchObject({
      action: 'DELETE_ORPHAN',
      source: 'repair',
      credentialId: orphan,
      deletedCredentialIds: [orphan],
    });
    const [released] = await historyOf('stuck-app');
    expect(released).toMatchObject({ action: 'RELEASE_CLAIM', source: 'repair', requestId: expect.stringMatching(/^audit-/) });
    expect([...(released?.deletedCredentialIds ?? [])].sort()).toEqual([...leftovers].sort());
  });

  it('records a repair that changes a record even when the operator asked for no history (--no-history)', async () => {
    // Prepare: a key deleted by hand.
    const apiKeyId = await createKey('unrecorded-repair-app');
    await aws.deleteKey(apiKeyId);

    // Act
    const audit = await runAuditCommand(webhook, '--repair', '--apply', '--no-history');

    // Assess
    expect(audit.exitCode).toBe(0);
    expect((await historyOf('unrecorded-repair-app'))[0]).toMatchObject({ action: 'MARK_REVOKED', source: 'repair', credentialId: apiKeyId });
  });
});
