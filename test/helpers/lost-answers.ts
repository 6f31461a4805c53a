import { randomUUID } from 'node:crypto';
import type { FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';

type Input = Record<string, unknown>;

/**
 * Makes the next call of `command` through `client` (the first that `matches`) be carried out by the
 * server, then fail as a time-out would: the answer is lost, and the SDK's retry strategy sends the
 * call again. It sits below the retry middleware, where a network failure happens, so every attempt
 * passes through it. `fired` tells whether it struck; `remove` takes it off the client.
 */
export const loseNextAnswer = (
  client: { middlewareStack: MiddlewareStack<any, any> },
  command: string,
  matches: (input: Input) => boolean = () => true,
  /** Runs after the server acted and before the caller learns of the loss: another call racing into that window. */
  inTheWindow?: () => Promise<unknown>,
) => {
  const name = `loseNextAnswer-${randomUUID()}`;
  const fault = { fired: false, remove: () => void client.middlewareStack.remove(name) };
  const loseAnswer: FinalizeRequestMiddleware<any, any> = (next, context) => async (args) => {
    if (fault.fired || context.commandName !== command || !matches(args.input as Input)) return next(args);
    fault.fired = true;
    await next(args);
    await inTheWindow?.();
    throw Object.assign(new Error('Simulated time-out after the server acted'), { name: 'TimeoutError' });
  };
  client.middlewareStack.addRelativeTo(loseAnswer, { relation: 'after', toMiddleware: 'retryMiddleware', name });
  return fault;
};

/** Matches the registry's UpdateItem calls whose update expression contains `part`. */
export const updating = (part: string) => (input: Input) => String(input.UpdateExpression).includes(part);
