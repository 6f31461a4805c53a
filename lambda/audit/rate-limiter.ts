import { setTimeout as sleep } from 'node:timers/promises';

/** At most `perSecond` calls in any one second, paced evenly (no burst: the portal shares the same account limits). */
export interface RateRule {
  perSecond: number;
}

/** Rules by operation name, and one for every call of the client together. */
export interface ClientRateRules {
  total: RateRule;
  operations?: Record<string, RateRule>;
}

const windowMs = 1000;

/**
 * The starts of one rule's most recent calls. A call may start when it keeps the even pace
 * (`1 / perSecond` after the one before) and when no window of one second, both ends included,
 * would hold more than `perSecond` starts: the rule is kept whatever the timers do (they may
 * fire a little early or late) because it is checked against the clock at the start itself.
 */
class SlidingWindow {
  private readonly starts: number[] = [];
  private readonly capacity: number;
  private readonly spacingMs: number;

  constructor(rule: RateRule) {
    // 15 × 0.8 is 12.000000000000002 in floating point: a rate is a whole number of calls.
    this.capacity = Math.max(1, Math.floor(rule.perSecond + 1e-9));
    this.spacingMs = windowMs / rule.perSecond;
  }

  /** How long after `now` the next call may start (0: now). */
  waitAt(now: number): number {
    const last = this.starts.at(-1);
    const paced = last === undefined ? now : last + this.spacingMs;
    const oldest = this.starts.length >= this.capacity ? this.starts[this.starts.length - this.capacity] : undefined;
    // Strictly more than a second after the call `capacity` back, so a closed window never holds capacity + 1.
    const windowed = oldest === undefined ? now : oldest + windowMs + 1;
    return Math.max(0, paced - now, windowed - now);
  }

  record(at: number): void {
    this.starts.push(at);
    if (this.starts.length > this.capacity) this.starts.shift();
  }
}

/**
 * Keeps one SDK client under AWS's request-rate limits and counts its calls (every attempt,
 * retries included) by operation. The audit reads whole inventories and may delete
 * thousands of orphans: it must leave room for the portal's own calls.
 */
export class RateLimitedCalls {
  private readonly total: SlidingWindow | undefined;
  private readonly operations = new Map<string, SlidingWindow>();
  readonly counts = new Map<string, number>();

  constructor(private readonly rules: ClientRateRules | undefined) {
    this.total = rules && new SlidingWindow(rules.total);
  }

  async take(operation: string): Promise<void> {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
    if (!this.rules) return;
    const windows = [this.total, this.windowFor(operation)].filter((window) => window !== undefined);
    // Checked and recorded in one synchronous step at the start itself: calls waiting together
    // cannot all pass, and one whose timer fired early waits again.
    for (;;) {
      const now = performance.now();
      const wait = Math.max(...windows.map((window) => window.waitAt(now)));
      if (wait <= 0) {
        for (const window of windows) window.record(now);
        return;
      }
      // Node's timers count whole milliseconds.
      await sleep(Math.ceil(wait));
    }
  }

  private windowFor(operation: string): SlidingWindow | undefined {
    const rule = this.rules?.operations?.[operation];
    if (!rule) return undefined;
    let window = this.operations.get(operation);
    if (!window) {
      window = new SlidingWindow(rule);
      this.operations.set(operation, window);
    }
    return window;
  }

  /**
   * Adds the pacing to a client, inside the SDK's retry loop so that each attempt waits its turn.
   * Typed loosely: every SDK v3 client has this middleware stack.
   */
  attachTo(client: { middlewareStack: { add: (middleware: never, options: never) => void } }): void {
    const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      await this.take(context.commandName?.replace(/Command$/, '') ?? 'unknown');
      return next(args);
    };
    client.middlewareStack.add(middleware as never, { step: 'finalizeRequest', priority: 'low', name: 'auditRateLimit' } as never);
  }
}

/**
 * AWS's documented request-rate limits, scaled to leave the rest to the portal's calls:
 * API Gateway allows 10 control-plane requests a second per account and 5 a second for
 * CreateApiKey/DeleteApiKey; Cognito 5 a second for any single app-client operation per pool.
 */
export const auditShare = 0.8;
export const apiGatewayRates: ClientRateRules = {
  total: { perSecond: 10 * auditShare },
  operations: { DeleteApiKey: { perSecond: 5 * auditShare }, CreateApiKey: { perSecond: 5 * auditShare } },
};
export const cognitoRates: ClientRateRules = {
  total: { perSecond: 15 * auditShare },
  operations: Object.fromEntries(
    ['ListUserPoolClients', 'DescribeUserPoolClient', 'UpdateUserPoolClient', 'DeleteUserPoolClient'].map((operation) => [
      operation,
      { perSecond: 5 * auditShare },
    ]),
  ),
};
