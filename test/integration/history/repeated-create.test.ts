import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { main } from '../../../tools/history.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, withPlans } from '../../helpers/portal.ts';

const { webhook, post } = await startWebhookForTests();

/** The app's history as the command prints it (newest first), once it holds `count` entries (the history may lag the change). */
const historyOf = async (appKey: string, count: number) => {
  for (const giveUpAt = Date.now() + 5_000; ; await sleep(50)) {
    let stdout = '';
    await main([appKey, '--json', '--table', webhook.historyTableName], process.env, { stdout: (text) => void (stdout += text), stderr: () => {} });
    const entries = JSON.parse(stdout) as { action: string; before?: { usagePlanIds: string[] }; after?: { usagePlanIds: string[] } }[];
    if (entries.length >= count || Date.now() > giveUpAt) return entries;
  }
};

describe('the history of a repeated create', () => {
  it('records a changed grant with the old one before and the new one after', async () => {
    // Prepare
    await post('/v1/createCredentials', createRequest({ appSlug: 'history-repeat', apis: withPlans('1el57v') }));

    // Act: the portal repeats the create, asking for another plan
    const repeated = await post('/v1/createCredentials', createRequest({ appSlug: 'history-repeat', apis: withPlans('2fm68w') }));

    // Assess
    expect(repeated.status).toBe(200);
    const [latest] = await historyOf('history-repeat', 2);
    expect(latest).toMatchObject({ action: 'UPDATE', before: { usagePlanIds: ['1el57v'] }, after: { usagePlanIds: ['2fm68w'] } });
  });
});
