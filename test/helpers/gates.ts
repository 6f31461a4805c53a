import { randomUUID } from 'node:crypto';

/** The part of an AWS SDK client (or DynamoDB document client) a middleware is added to. */
interface SdkClient {
  middlewareStack: {
    add(middleware: (next: (args: any) => Promise<any>, context: { commandName?: string }) => (args: any) => Promise<any>, options: object): void;
    remove(name: string): boolean;
  };
}

/**
 * Stops the next call of `command` through `client` (after `skip` others) before it is sent, as a Lambda invocation frozen
 * with that call pending would be, until `release()`: `reached` resolves once it is held. It sits at
 * the first step of the stack, so everything the call does on its way out (the turn's fence included)
 * runs only after the release.
 */
export const pauseBefore = (client: SdkClient, command: string, skip = 0) => {
  let seen = 0;
  const name = `pauseBefore-${randomUUID()}`;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reachedGate: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    reachedGate = resolve;
  });
  let armed = true;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (armed && context.commandName === command && seen++ === skip) {
        armed = false;
        reachedGate();
        await released;
      }
      return next(args);
    },
    { step: 'initialize', name, priority: 'high' },
  );
  return {
    reached,
    release: () => {
      release();
      client.middlewareStack.remove(name);
    },
  };
};
