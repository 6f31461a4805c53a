import { describe, expect, it } from 'vitest';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest } from '../../helpers/portal.ts';

const { webhook, post } = await startWebhookForTests();
const { controlPlane } = webhook;

/** API Gateway's integration timeout: the portal never waits longer for an answer. */
const gatewayTimeoutMs = 29_000;

describe('a burst from the portal against a throttling control plane', () => {
  it('answers 50 creates for 25 apps, each sent twice at once, with exactly 25 keys within 29 s', async () => {
    // Prepare: API Gateway allows CreateApiKey 5 times a second per account.
    controlPlane.setThrottle('CreateApiKey', { ratePerSecond: 5, burst: 5 });
    const apps = Array.from({ length: 25 }, (_, index) => `burst-app-${index}`);
    const started = Date.now();

    // Act
    const answers = await Promise.all(
      apps.flatMap((appSlug) =>
        [1, 2].map(async () => {
          const response = await post('/v1/createCredentials', createRequest({ appSlug }));
          return { appSlug, status: response.status, body: response.json, elapsedMs: Date.now() - started };
        }),
      ),
    );

    // Assess
    const keys = controlPlane.apiKeys().filter((key) => key.name.startsWith('portal-burst-app-'));
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(keys).toHaveLength(25);
    for (const appSlug of apps) {
      const [first, second] = answers.filter((answer) => answer.appSlug === appSlug);
      expect(second?.body).toEqual(first?.body);
      expect(keys.filter((key) => key.id === first?.body.apiKeyId)).toHaveLength(1);
    }
    expect(Math.max(...answers.map((answer) => answer.elapsedMs))).toBeLessThan(gatewayTimeoutMs);
    expect(controlPlane.calls().CreateApiKey).toBeGreaterThan(25); // throttled calls were retried, not lost
  });
});
