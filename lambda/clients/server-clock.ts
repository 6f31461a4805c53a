import type { DeserializeHandlerOptions, DeserializeMiddleware, Pluggable } from '@smithy/types';

/**
 * The clock of the service a client calls, as the `Date` header of its answers tells it (to the
 * second). A caller whose own clock may be off (a laptop that slept or drifted) judges the
 * registry's leases by it: each answer re-reads the offset, measured from the middle of the call.
 * Before the first answer, the caller's own clock.
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
      // The header is cut to the second: its middle is half a second on.
      if (!Number.isNaN(date)) this.offsetMs = Math.round(date + 500 - (sentAt + this.localClock()) / 2);
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
