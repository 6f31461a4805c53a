/**
 * Local stand-in for the AWS API Gateway control plane and AWS Secrets Manager (and the
 * CloudFormation DescribeStacks and STS GetCallerIdentity the operator commands read).
 *
 * One in-process HTTP server (node:http only) that speaks the wire protocols the
 * AWS SDK for JavaScript v3 uses, so the unmodified `@aws-sdk/client-api-gateway`
 * and `@aws-sdk/client-secrets-manager` clients work against it when given
 * `endpoint: url` (or `AWS_ENDPOINT_URL_API_GATEWAY` / `AWS_ENDPOINT_URL_SECRETS_MANAGER`):
 *
 * - API Gateway is restJson1: the operation is chosen by method and path, errors carry
 *   the `x-amzn-ErrorType` header, a `{"message"}` body and the modelled status code,
 *   and list results sit under `item` (the SDK renames it to `items`).
 * - Secrets Manager is awsJson1_1: every call is `POST /` with
 *   `X-Amz-Target: secretsmanager.<Operation>`, errors are status 400 with `__type` in the body.
 *
 * The wire shapes follow the SDK's own schemas (`dist-cjs/index.js` of both clients).
 * SigV4 signatures are accepted without being checked.
 *
 * For tests it adds read-only views of the state, per-operation call counts,
 * token-bucket throttling and one-shot fault injection.
 *
 * This module is the server and its request pipeline; each service is a module of its own
 * (api-gateway.ts, secrets-manager.ts), sharing aws-protocol.ts and faults-and-throttles.ts.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiGatewaySeed, ApiGatewayState, type ApiKeyView, resolveApiGatewayCall, toApiKeyView } from './api-gateway.ts';
import {
  AwsError,
  type JsonObject,
  parseJsonObject,
  readBody,
  type Reply,
  type ResolvedCall,
  send,
  toAwsError,
  type UnknownCall,
} from './aws-protocol.ts';
import { isQueryRequest, type LocalStack, parseQueryBody, QueryServicesState, resolveQueryCall } from './cloudformation-sts.ts';
import { type Fault, FaultQueue, type ThrottleRule, Throttles } from './faults-and-throttles.ts';
import { currentVersion, resolveSecretsManagerCall, SecretsManagerState } from './secrets-manager.ts';

export type { ApiKeyView } from './api-gateway.ts';
export type { LocalStack } from './cloudformation-sts.ts';
export type { Fault, ThrottleRule } from './faults-and-throttles.ts';

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/** The resources that exist before any request: APIs and plans are read-only here. */
export interface ControlPlaneSeed extends ApiGatewaySeed {
  secrets?: { name: string; secretString: string }[];
}

export interface StartOptions {
  seed?: ControlPlaneSeed;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 0, an ephemeral port. */
  port?: number;
  /** Throttle rules keyed by operation name, e.g. `CreateApiKey`. */
  throttle?: Partial<Record<string, ThrottleRule>>;
}

export interface AwsControlPlane {
  /** Base URL, e.g. http://127.0.0.1:PORT. */
  url: string;
  /** Read-only copies of the state, for assertions. */
  apiKeys(): ApiKeyView[];
  /** Ids of the API keys linked to a usage plan; throws for an unknown plan. */
  usagePlanKeyIds(usagePlanId: string): string[];
  /** Makes DescribeStacks answer for this stack (replacing one of the same name). */
  putStack(stack: LocalStack): void;
  /** The AWSCURRENT value of a secret, if the secret exists and has one. */
  secret(name: string): string | undefined;
  /** Requests per operation name, including throttled and failed ones. */
  calls(): Record<string, number>;
  /** The next `times` (default 1) calls of `operation` suffer `fault`. Faults queue up per operation. */
  injectFault(operation: string, fault: Fault, times?: number): void;
  clearFaults(): void;
  /** Sets (or with `undefined` removes) the throttle rule of one operation; the bucket starts full. */
  setThrottle(operation: string, rule: ThrottleRule | undefined): void;
  /**
   * Back to a seeded state: resources from `seed` (default: the seed given at start),
   * call counts zeroed, faults cleared, throttle rules as given at start with full buckets.
   */
  reset(seed?: ControlPlaneSeed): void;
  close(): Promise<void>;
}

export async function startAwsControlPlane(options: StartOptions = {}): Promise<AwsControlPlane> {
  const host = options.host ?? '127.0.0.1';
  const startSeed = options.seed ?? EMPTY_SEED;
  const harness = new Harness(startSeed, options.throttle ?? {});
  const shutdown = new AbortController();

  const server = createServer((req, res) => {
    serve(harness, shutdown.signal, req, res).catch((error: unknown) => {
      // Only reachable if writing the response itself failed; nothing left to tell the client.
      console.error('aws-control-plane: unexpected failure', error);
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    apiKeys: () => [...harness.state.apiGateway.apiKeys.values()].map(toApiKeyView),
    usagePlanKeyIds: (usagePlanId) => {
      const plan = harness.state.apiGateway.usagePlans.get(usagePlanId);
      if (!plan) throw new Error(`Unknown usage plan ${usagePlanId}`);
      return [...plan.keyIds];
    },
    putStack: (stack) => harness.state.query.putStack(stack),
    secret: (name) => currentVersion(harness.state.secretsManager.secrets.get(name))?.secretString,
    calls: () => Object.fromEntries(harness.calls),
    injectFault: (operation, fault, times = 1) => harness.faults.inject(operation, fault, times),
    clearFaults: () => harness.faults.clear(),
    setThrottle: (operation, rule) => harness.throttles.set(operation, rule),
    reset: (seed) => harness.reset(seed ?? startSeed),
    close: async () => {
      shutdown.abort(); // releases requests parked by a delay fault
      server.closeAllConnections(); // the SDK keeps sockets alive; close() alone would wait for them
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

const EMPTY_SEED: ControlPlaneSeed = { restApis: [], usagePlans: [] };

// ---------------------------------------------------------------------------
// Request pipeline: resolve operation → count → fault → throttle → run
// ---------------------------------------------------------------------------

async function serve(harness: Harness, shutdown: AbortSignal, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawBody = await readBody(req);
  const query = isQueryRequest(req);
  const call = resolveCall(req, query ? parseQueryBody(rawBody) : undefined);
  if ('error' in call) {
    sendReply(res, call.protocol.renderError(call.error)); // not counted: it names no operation
    return;
  }

  const { protocol, operation } = call;
  harness.calls.set(operation, (harness.calls.get(operation) ?? 0) + 1);

  const fault = harness.faults.take(operation);
  if (fault?.kind === 'reset') {
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'delay') {
    const aborted = await sleep(fault.delayMs, false, { signal: shutdown }).catch(() => true);
    if (aborted) return;
  }

  let reply: Reply;
  try {
    if (fault?.kind === 'error') {
      throw new AwsError(fault.status, fault.errorType, fault.message ?? `Injected ${fault.errorType} for ${operation}`);
    }
    const retryAfterSeconds = harness.throttles.take(operation);
    if (retryAfterSeconds !== undefined) throw protocol.throttlingError(retryAfterSeconds);
    reply = call.run(harness.state, query ? parseQueryBody(rawBody) : parseJsonObject(rawBody));
  } catch (error) {
    reply = protocol.renderError(toAwsError(error, protocol));
  }
  if (fault?.kind === 'drop-answer') {
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'hang-answer') {
    const aborted = await sleep(fault.delayMs, false, { signal: shutdown }).catch(() => true);
    if (aborted || req.socket.destroyed) return;
  }
  sendReply(res, reply);
}

/** XML replies (the query protocol) are written as they are; JSON ones are serialized. */
function sendReply(res: ServerResponse, reply: Reply): void {
  if (reply.headers['content-type'] !== 'text/xml' || typeof reply.body !== 'string') {
    send(res, reply);
    return;
  }
  res.writeHead(reply.status, { 'x-amzn-RequestId': randomUUID(), 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
  res.end(reply.body);
}

/**
 * Form-encoded calls are the query protocol (CloudFormation, STS); Secrets Manager calls are
 * recognised by their target header; everything else is API Gateway.
 */
function resolveCall(req: IncomingMessage, queryBody: JsonObject | undefined): ResolvedCall<ControlPlaneState> | UnknownCall {
  if (queryBody) return forService(resolveQueryCall(queryBody), 'query');
  const target = req.headers['x-amz-target'];
  const call =
    typeof target === 'string'
      ? forService(resolveSecretsManagerCall(req, target), 'secretsManager')
      : forService(resolveApiGatewayCall(req), 'apiGateway');
  return call;
}

/** A service's call, run against that service's part of the state current when it runs. */
function forService<K extends keyof ControlPlaneState>(
  call: ResolvedCall<ControlPlaneState[K]> | UnknownCall,
  service: K,
): ResolvedCall<ControlPlaneState> | UnknownCall {
  if ('error' in call) return call;
  return { ...call, run: (state, body) => call.run(state[service], body) };
}

/** The resources of every service; the stacks outlive a reset (they describe the deployment, not its state). */
class ControlPlaneState {
  readonly apiGateway: ApiGatewayState;
  readonly secretsManager: SecretsManagerState;

  constructor(
    seed: ControlPlaneSeed,
    readonly query = new QueryServicesState(),
  ) {
    this.apiGateway = new ApiGatewayState(seed);
    this.secretsManager = new SecretsManagerState(seed.secrets);
  }
}

/** Everything a running stand-in tracks besides the AWS resources themselves. */
class Harness {
  state: ControlPlaneState;
  readonly calls = new Map<string, number>();
  readonly faults = new FaultQueue();
  readonly throttles: Throttles;

  constructor(
    seed: ControlPlaneSeed,
    private readonly initialThrottle: Partial<Record<string, ThrottleRule>>,
  ) {
    this.state = new ControlPlaneState(seed);
    this.throttles = new Throttles(initialThrottle);
  }

  reset(seed: ControlPlaneSeed): void {
    this.state = new ControlPlaneState(seed, this.state.query);
    this.calls.clear();
    this.faults.clear();
    this.throttles.reset(this.initialThrottle);
  }
}
