/** One-shot fault injection and token-bucket throttling per operation, shared by the stand-ins. */

/** A token bucket: `burst` calls at once, refilled at `ratePerSecond`. A burst of 0 throttles every call. */
export interface ThrottleRule {
  ratePerSecond: number;
  burst: number;
}

/** What the next calls of an operation do instead of their normal work. */
export type Fault =
  /** Answer with this AWS error (rendered in the operation's own protocol). */
  | { kind: 'error'; status: number; errorType: string; message?: string }
  /** Drop the connection without answering. */
  | { kind: 'reset' }
  /** Wait `delayMs`, then answer normally. */
  | { kind: 'delay'; delayMs: number }
  /** Do the work, then drop the connection instead of answering: the call took effect, the caller cannot know. */
  | { kind: 'drop-answer' }
  /** Do the work, then hold the answer for `delayMs`: a call that hangs after it took effect. */
  | { kind: 'hang-answer'; delayMs: number };

/**
 * Faults waiting per operation; shared with the other stand-ins' fault injection. A fault may be
 * aimed at one place (`account/region`, see aws-control-plane.ts): only that place's calls take it.
 */
export class FaultQueue {
  private readonly pending = new Map<string, { fault: Fault; remaining: number; place?: string }[]>();

  inject(operation: string, fault: Fault, times: number, place?: string): void {
    if (times < 1) return;
    const queue = this.pending.get(operation) ?? [];
    queue.push({ fault, remaining: times, place });
    this.pending.set(operation, queue);
  }

  /**
   * The fault the current call of `operation` (made in `place`, when the stand-in knows places) suffers,
   * if any: the oldest one aimed at no place or at this one. Consumes one use of it.
   */
  take(operation: string, place?: string): Fault | undefined {
    const queue = this.pending.get(operation);
    const index = queue?.findIndex((entry) => entry.place === undefined || entry.place === place) ?? -1;
    const entry = index < 0 ? undefined : queue?.[index];
    if (!queue || !entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) queue.splice(index, 1);
    return entry.fault;
  }

  clear(): void {
    this.pending.clear();
  }
}

class TokenBucket {
  private tokens: number;
  private refilledAt = performance.now();

  constructor(private readonly rule: ThrottleRule) {
    this.tokens = rule.burst;
  }

  /** Takes a token; returns undefined when granted, else the seconds until one is available. */
  take(): number | undefined {
    const now = performance.now();
    this.tokens = Math.min(this.rule.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rule.ratePerSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    return (1 - this.tokens) / this.rule.ratePerSecond;
  }
}

export class Throttles {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(rules: Partial<Record<string, ThrottleRule>>) {
    this.reset(rules);
  }

  set(operation: string, rule: ThrottleRule | undefined): void {
    if (rule && !(rule.ratePerSecond > 0 && rule.burst >= 0)) {
      throw new Error(`Invalid throttle rule for ${operation}: ratePerSecond must be > 0 and burst >= 0`);
    }
    if (rule) this.buckets.set(operation, new TokenBucket(rule));
    else this.buckets.delete(operation);
  }

  /**
   * Undefined when the call may proceed, else the Retry-After value in whole seconds
   * (HTTP allows no fractions, hence at least 1).
   */
  take(operation: string): number | undefined {
    const wait = this.buckets.get(operation)?.take();
    return wait === undefined ? undefined : Math.max(1, Math.ceil(wait));
  }

  reset(rules: Partial<Record<string, ThrottleRule>>): void {
    this.buckets.clear();
    for (const [operation, rule] of Object.entries(rules)) this.set(operation, rule);
  }
}
