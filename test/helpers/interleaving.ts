import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Scheduler } from 'fast-check';
import { AsyncLocalStorage } from 'node:async_hooks';

/** Set while an operation runs outside the schedule (`Interleaver.atOnce`). */
const unscheduled = new AsyncLocalStorage<boolean>();

/** The part of an AWS SDK client (or DynamoDB document client) a middleware is added to. */
interface SdkClient {
  middlewareStack: {
    add(middleware: (next: (args: any) => Promise<any>, context: { commandName?: string }) => (args: any) => Promise<any>, options: object): void;
  };
}

/**
 * Runs concurrent operations one AWS call at a time, in an order fast-check's scheduler
 * chooses: every call of an attached client waits at a gate, and the next gate opens only
 * once no call is in flight. A run is thus one interleaving of the operations' steps,
 * reproducible from fast-check's seed and shrunk like any other input; the scheduler's
 * report lists the calls in the order they ran.
 */
export class Interleaver {
  private scheduler: Scheduler | undefined;
  private inFlight = 0;
  private whenIdle: (() => void)[] = [];

  /** Gates every call of `client`; outside `run` calls pass straight through. */
  attach(client: SdkClient, service: string): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const scheduler = this.scheduler;
        if (!scheduler || unscheduled.getStore()) return next(args);
        await scheduler.schedule(Promise.resolve(), `${service}.${context.commandName} ${JSON.stringify(args.input).slice(0, 120)}`);
        this.inFlight++;
        try {
          return await next(args);
        } finally {
          if (--this.inFlight === 0) for (const resolve of this.whenIdle.splice(0)) resolve();
        }
      },
      { step: 'initialize', name: 'interleave', override: true },
    );
  }

  /**
   * Runs `operation` whole, its calls let straight through while the others wait: a call racing
   * into a window the scheduler cannot see into (between a write taking effect and its lost answer).
   */
  atOnce<T>(operation: () => Promise<T>): Promise<T> {
    return unscheduled.run(true, operation);
  }

  /** Starts every operation at once and lets their calls through one at a time. */
  async run<T>(scheduler: Scheduler, operations: readonly (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
    this.scheduler = scheduler;
    let finished = false;
    const settled = Promise.allSettled(operations.map((operation) => operation())).finally(() => {
      finished = true;
    });
    try {
      while (!finished) {
        await this.quiet();
        if (scheduler.count() > 0) await scheduler.waitNext(1);
        // Nothing at a gate: the operations left are waiting on a timer (polling a busy app).
        else await sleep(1);
      }
      return await settled;
    } finally {
      this.scheduler = undefined;
    }
  }

  /** No call in flight, and the code that continues after the last one has reached its next gate. */
  private async quiet(): Promise<void> {
    do {
      if (this.inFlight > 0) await new Promise<void>((resolve) => this.whenIdle.push(resolve));
      await nextTurn();
    } while (this.inFlight > 0);
  }
}
