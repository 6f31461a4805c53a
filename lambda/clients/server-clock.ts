import type { DeserializeHandlerOptions, DeserializeMiddleware, Pluggable } from '@smithy/types';

/**
 * The clock of the service a client calls, as the `Date` header of its answers tells it (to the
 * second). A caller whose own clock may be off (a laptop that slept or drifted) judges the
 * registry's leases by it: each answer corrects the caller's clock by the least that agrees with
 * it (none when the clocks agree to within the header's second). Before the first answer, the
 * caller's own clock.
 */
export class ServerClock {
  private offsetMs = 0;

  constructor(private readonly localClock: () => number = Date.now) {}

  /** The service's time now (epoch ms). */
  readonly now = (): number => this.localClock() + this.offsetMs;

  /** `client.middlewareStack.use(clock.plugin)`: every answer of the client sets the clock. */
  // biome-ignore lint/suspicious/noExplicitAny: a plugin for any client's stack, which the SDK types with any.
  readonly plugin: Pluggable<any, any> = {
    applyToStack: (stack) => stack.add(this.read, placement),
  };

  // biome-ignore lint/suspicious/noExplicitAny: one middleware for every command of every client.
  private readonly read: DeserializeMiddleware<any, any> = (next) => async (args) => {
    const sentAt = this.localClock();
    const settle = (response: unknown) => {
      const date = Date.parse(String((response as { headers?: Record<string, string> } | undefined)?.headers?.date));
      if (Number.isNaN(date)) return;
      // The service read its clock during the call, in the second the header names: on receipt its time is at
      // least `date` and at most a second plus the call's length later. Only a clock outside that window is corrected.
      const receivedAt = this.localClock();
      const latest = date + 1000 + (receivedAt - sentAt);
      this.offsetMs = receivedAt < date ? date - receivedAt : receivedAt > latest ? latest - receivedAt : 0;
    };
    try {
      const result = await next(args);
      settle(result.response);
      return result;
    } catch (error) {
      settle((error as { $response?: unknown }).$response);
      throw error;
    }
  };
}

const placement: DeserializeHandlerOptions = { step: 'deserialize', name: 'serverClock', override: true };
