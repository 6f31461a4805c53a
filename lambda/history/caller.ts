import { AsyncLocalStorage } from 'node:async_hooks';

/** Who asked for a change: the route or repair, the caller's principal, and the request id. */
export interface Caller {
  /** `POST /v1/createCredentials`, or `repair` for the audit's repairs. */
  source: string;
  /** Who the request authenticated as (`scheme:principal`, e.g. `basic:portal`), or the operator running a repair. */
  principal: string;
  requestId: string;
}

const current = new AsyncLocalStorage<Caller>();

/** Runs `work` on behalf of `caller`: the history entries it causes name them. */
export const withCaller = <T>(caller: Caller, work: () => Promise<T>): Promise<T> => current.run(caller, work);

export const currentCaller = (): Caller => current.getStore() ?? { source: 'unknown', principal: 'unknown', requestId: 'unknown' };
