import { setTimeout as sleep } from 'node:timers/promises';

/** At most `perSecond` calls a second, paced evenly (no burst: the portal shares the same account limits). */
export interface RateRule {
  perSecond: number;
}

/** Rules by operation name, and one for every call of the client together. */
export interface ClientRateRules {
  total: RateRule;
  operations?: Record<string, RateRule>;
}

/** Paces calls so that each starts no sooner than `1 / perSecond` after the one before it. */
class Pacer {
  private nextAt = 0;

  constructor(private readonly rule: RateRule) {}

  /** Reserves the next slot and answers how long to wait for it. */
  reserve(now: number): number {
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + 1000 / this.rule.perSecond;
    return at - now;
  }
}

/**
 * Keeps one SDK client under AWS's request-rate limits and counts its calls (every attempt,
 * retries included) by operation. The audit reads whole inventories and may delete
 * thousands of orphans: it must leave room for the portal's own calls.
 */
export class RateLimitedCalls {
  private readonly total: Pacer | undefined;
  private readonly operations = new Map<string, Pacer>();
  readonly counts = new Map<string, number>();

  constructor(private readonly rules: ClientRateRules | undefined) {
    this.total = rules && new Pacer(rules.total);
  }

  async take(operation: string): Promise<void> {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
    if (!this.rules) return;
    const rule = this.rules.operations?.[operation];
    let pacer = this.operations.get(operation);
    if (rule && !pacer) {
      pacer = new Pacer(rule);
      this.operations.set(operation, pacer);
    }
    const now = Date.now();
    const wait = Math.max(this.total?.reserve(now) ?? 0, pacer?.reserve(now) ?? 0);
    if (wait > 0) await sleep(wait);
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
