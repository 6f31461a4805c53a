import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * A fake clock for the limiter: `Date.now` and `performance.now` read it, and `sleep` from
 * node:timers/promises resolves when the test advances it, `earlyMs` before it is due (Node's
 * timers may fire a millisecond early against the wall clock), but never in under 1 ms (as Node).
 */
const clock = vi.hoisted(() => {
  const state = { now: 0, earlyMs: 0, timers: [] as { at: number; resolve: () => void }[] };
  return {
    state,
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        state.timers.push({ at: state.now + Math.max(1, ms - state.earlyMs), resolve });
      }),
  };
});
vi.mock('node:timers/promises', () => ({ setTimeout: (ms: number) => clock.sleep(ms) }));
const { apiGatewayRates, cognitoRates, RateLimitedCalls } = await import('../../../lambda/audit/rate-limiter.ts');

const flushMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs `work` to its end, moving the fake clock to each timer in turn whenever every caller waits. */
const runOnFakeClock = async (work: Promise<unknown>) => {
  let done = false;
  void work.finally(() => {
    done = true;
  });
  while (!done) {
    await flushMicrotasks();
    if (done) break;
    clock.state.timers.sort((a, b) => a.at - b.at);
    const next = clock.state.timers.shift();
    if (!next) throw new Error('every caller waits, and no timer is due');
    clock.state.now = Math.max(clock.state.now, next.at);
    next.resolve();
  }
  await work;
};

/** The largest number of starts that one window of a second, both ends included, holds. */
const busiestSecond = (starts: readonly number[]) =>
  Math.max(...starts.map((end) => starts.filter((start) => start >= end - 1000 && start <= end).length));

describe('the audit’s pacing, on a fake clock', () => {
  const starts = new Map<string, number[]>();
  /** Takes a slot for `operation` and notes when, by the clock, the call went out. */
  const call = async (calls: InstanceType<typeof RateLimitedCalls>, operation: string) => {
    await calls.take(operation);
    starts.set(operation, [...(starts.get(operation) ?? []), clock.state.now]);
  };

  beforeEach(() => {
    clock.state.now = 1_000_000;
    clock.state.earlyMs = 0;
    clock.state.timers = [];
    starts.clear();
    vi.spyOn(Date, 'now').mockImplementation(() => clock.state.now);
    vi.spyOn(performance, 'now').mockImplementation(() => clock.state.now);
  });
  afterEach(() => vi.restoreAllMocks());

  it('never lets one second, ends included, hold more than 4 DeleteApiKey calls, one after another', async () => {
    // Prepare
    const calls = new RateLimitedCalls(apiGatewayRates);

    // Act
    await runOnFakeClock(
      (async () => {
        for (let index = 0; index < 20; index++) await call(calls, 'DeleteApiKey');
      })(),
    );

    // Assess: 4 a second (80% of API Gateway's 5), in every window, not only on average.
    expect(starts.get('DeleteApiKey')).toHaveLength(20);
    expect(busiestSecond(starts.get('DeleteApiKey') ?? [])).toBeLessThanOrEqual(4);
  });

  it('never lets one second hold more than 4 DescribeUserPoolClient calls from 4 concurrent callers whose timers fire early', async () => {
    // Prepare: as the inventory describes app clients, 4 at a time.
    clock.state.earlyMs = 1;
    const calls = new RateLimitedCalls(cognitoRates);
    const worker = async () => {
      for (let index = 0; index < 10; index++) await call(calls, 'DescribeUserPoolClient');
    };

    // Act
    await runOnFakeClock(Promise.all([worker(), worker(), worker(), worker()]));

    // Assess
    expect(starts.get('DescribeUserPoolClient')).toHaveLength(40);
    expect(busiestSecond(starts.get('DescribeUserPoolClient') ?? [])).toBeLessThanOrEqual(4);
  });

  it('keeps every API Gateway call together under 8 a second while DeleteApiKey keeps its own 4', async () => {
    // Prepare: deletes interleaved with reads, as a repair of orphans between listings would.
    clock.state.earlyMs = 1;
    const calls = new RateLimitedCalls(apiGatewayRates);
    const deletes = async () => {
      for (let index = 0; index < 12; index++) await call(calls, 'DeleteApiKey');
    };
    const reads = async () => {
      for (let index = 0; index < 24; index++) await call(calls, index % 2 ? 'GetApiKeys' : 'GetUsagePlanKeys');
    };

    // Act
    await runOnFakeClock(Promise.all([deletes(), reads(), reads()]));

    // Assess
    const everyCall = [...starts.values()].flat();
    expect(everyCall).toHaveLength(60);
    expect(busiestSecond(everyCall)).toBeLessThanOrEqual(8);
    expect(busiestSecond(starts.get('DeleteApiKey') ?? [])).toBeLessThanOrEqual(4);
  });

  it('still keeps the pace it states: 20 DeleteApiKey calls take under 5 seconds and a half', async () => {
    // Prepare
    const calls = new RateLimitedCalls(apiGatewayRates);
    const begin = clock.state.now;

    // Act
    await runOnFakeClock(
      (async () => {
        for (let index = 0; index < 20; index++) await call(calls, 'DeleteApiKey');
      })(),
    );

    // Assess: the margin that keeps every window within the rule costs about a millisecond a second.
    expect(clock.state.now - begin).toBeGreaterThanOrEqual(4_750);
    expect(clock.state.now - begin).toBeLessThan(5_500);
  });
});
