import { AsyncLocalStorage } from 'node:async_hooks';
import type { FinalizeRequestHandlerOptions, FinalizeRequestMiddleware, Pluggable, RelativeMiddlewareOptions } from '@smithy/types';

/**
 * The span in which a caller may act on AWS. A change of an app runs in the turn its registry lease
 * gives it: it ends a safety margin before the lease does (`deadline`, by the caller's clock), or
 * when the invocation is given up (`signal`: middy's time-out guard answered the portal already).
 * Lambda may freeze an invocation with its promises pending and resume them minutes later; a turn
 * is judged by the clock at each call, so a resumed holder finds its turn over instead of acting.
 */
export interface Turn {
  /** Epoch ms, by `now`, after which no call may start, and none may be waited for. */
  readonly deadline: number;
  readonly now: () => number;
  readonly signal?: AbortSignal;
}

/** A call was refused, or abandoned in flight, because its caller's turn was over: what it did is unknown. */
export class TurnOverError extends Error {
  override readonly name = 'TurnOverError';
  constructor(readonly inFlight: boolean) {
    super(inFlight ? 'The turn ended while an AWS call was in flight' : 'The turn ended before an AWS call could start');
  }
}

const turns = new AsyncLocalStorage<Turn>();

/** Runs `work` in `turn`: every call of a client with `fencedByTurns` that it makes, however deep, obeys the turn. */
export const inTurn = <T>(turn: Turn, work: () => Promise<T>): Promise<T> => turns.run(turn, work);

/** The turn the current code runs in, if any. */
export const currentTurn = (): Turn | undefined => turns.getStore();

export const isTurnOver = (turn: Turn): boolean => turn.signal?.aborted === true || turn.now() >= turn.deadline;

/** A turn within `outer` that ends no later than `deadline`. */
export const narrowTurn = (outer: Turn | undefined, deadline: number, now: () => number): Turn => ({
  deadline: Math.min(deadline, outer?.deadline ?? Number.POSITIVE_INFINITY),
  now,
  ...(outer?.signal ? { signal: outer.signal } : {}),
});

/** Settles as `attempt` does, unless the turn ends first: then rejects, leaving the attempt to the void. */
const raceTurn = async <T>(attempt: Promise<T>, turn: Turn): Promise<T> => {
  const remaining = turn.deadline - turn.now();
  if (!Number.isFinite(remaining) && !turn.signal) return attempt;
  const signals = [
    ...(turn.signal ? [turn.signal] : []),
    ...(Number.isFinite(remaining) ? [AbortSignal.timeout(Math.max(0, Math.ceil(remaining)))] : []),
  ];
  const ended = AbortSignal.any(signals);
  let onEnd: (() => void) | undefined;
  const turnEnds = new Promise<never>((_, reject) => {
    onEnd = () => reject(new TurnOverError(true));
    ended.addEventListener('abort', onEnd, { once: true });
  });
  try {
    const result = await Promise.race([attempt, turnEnds]);
    // A frozen process runs no timers: on thaw the answer may arrive before the timer fires.
    if (isTurnOver(turn)) throw new TurnOverError(true);
    return result;
  } finally {
    if (onEnd) ended.removeEventListener('abort', onEnd);
    turnEnds.catch(() => undefined);
  }
};

// biome-ignore lint/suspicious/noExplicitAny: one middleware for every command of every client; the SDK types such a stack with any.
const fenceAttempt: FinalizeRequestMiddleware<any, any> = (next) => async (args) => {
  const turn = turns.getStore();
  if (!turn) return next(args);
  // Every attempt, retries included: the SDK's backoff may carry a call past the deadline.
  if (isTurnOver(turn)) throw new TurnOverError(false);
  return raceTurn(next(args), turn);
};

const placement: RelativeMiddlewareOptions & Pick<FinalizeRequestHandlerOptions, 'tags'> = {
  name: 'fenceAttemptToTurn',
  relation: 'after',
  toMiddleware: 'retryMiddleware',
  override: true,
};

/** `client.middlewareStack.use(fencedByTurns)`: no attempt of any call starts, or is waited for, after its caller's turn. */
// biome-ignore lint/suspicious/noExplicitAny: a plugin for any client's stack, which the SDK types with any.
export const fencedByTurns: Pluggable<any, any> = {
  applyToStack: (stack) => stack.addRelativeTo(fenceAttempt, placement),
};
