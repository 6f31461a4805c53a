import { describe, expect, it } from 'vitest';
import { apiGatewayRates, RateLimitedCalls } from '../../../lambda/audit/rate-limiter.ts';

describe('the audit’s pacing of AWS calls', () => {
  it('spaces DeleteApiKey calls to stay under API Gateway’s 5 a second, and counts every call', async () => {
    // Prepare
    const calls = new RateLimitedCalls(apiGatewayRates);
    const startedAt: number[] = [];

    // Act
    for (let call = 0; call < 4; call++) {
      await calls.take('DeleteApiKey');
      startedAt.push(performance.now());
    }

    // Assess: 4 a second at most (80% of the limit, the rest left to the portal).
    const gaps = startedAt.slice(1).map((at, index) => at - (startedAt[index] as number));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(245);
    expect(calls.counts.get('DeleteApiKey')).toBe(4);
  });

  it('paces all operations of one client together under the account-wide limit', async () => {
    // Prepare
    const calls = new RateLimitedCalls({ total: { perSecond: 20 } });
    const begin = performance.now();

    // Act: three different operations.
    await calls.take('GetApiKeys');
    await calls.take('GetUsagePlans');
    await calls.take('GetUsagePlanKeys');

    // Assess: the third waited two slots of 50 ms.
    expect(performance.now() - begin).toBeGreaterThanOrEqual(95);
  });

  it('does not wait at all when unlimited (against local stand-ins), but still counts', async () => {
    const calls = new RateLimitedCalls(undefined);
    const begin = performance.now();
    for (let call = 0; call < 100; call++) await calls.take('DescribeUserPoolClient');
    expect(performance.now() - begin).toBeLessThan(1_000);
    expect(calls.counts.get('DescribeUserPoolClient')).toBe(100);
  });
});
