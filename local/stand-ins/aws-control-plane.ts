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
 * - Service Quotas is awsJson1_1 too, with `X-Amz-Target: ServiceQuotasV20190624.<Operation>`
 *   (`AWS_ENDPOINT_URL_SERVICE_QUOTAS`): Cognito user pools' quotas only (service-quotas.ts).
 *
 * The wire shapes follow the SDK's own schemas (`dist-cjs/index.js` of both clients).
 * SigV4 signatures are accepted without being checked.
 *
 * For tests it adds read-only views of the state, per-operation call counts,
 * token-bucket throttling and one-shot fault injection.
 *
 * This module is the server and its request pipeline; each service is a module of its own
 * (api-gateway.ts, secrets-manager.ts, service-quotas.ts, cloudformation-sts.ts), sharing aws-protocol.ts and faults-and-throttles.ts.
 *
 * Several accounts and Regions ("places", `account/region` as lambda/commons/places.ts writes them): API Gateway
 * keeps separate resources per place (api-gateway-places.ts). A request's place is read from its SigV4 signature
 * (request-place.ts): the Region from the credential scope, the account from the access key id, which is the
 * assumed role's account for keys STS AssumeRole handed out here (`roles`) and `000000000000` for any other key.
 * An unsigned request lands in `000000000000/us-east-1`, where `seed` lives.
 *
 * What the multi-place stand-in does NOT emulate (AWS does; tests here cannot catch a mistake there):
 * - SigV4 signatures are not verified: any secret key passes, and the session token sent with a key AssumeRole
 *   issued is not compared with the one it issued.
 * - Credentials never expire here: a session's Expiration is answered but a call after it still succeeds
 *   (AWS: ExpiredTokenException); the SDK's own refresh before expiry is what callers exercise.
 * - No IAM: neither the caller's permission to call sts:AssumeRole nor the assumed role's permissions policy is
 *   checked; a session may call any operation in its account. Only the trust policy's outline is: the role must be
 *   listed in `roles`, its `externalId` matched, its `trustedAccounts` (when given) name the caller's account.
 * - STS is one service for every Region (no regional endpoints, no Region to activate, no RegionDisabledException);
 *   session tags, session policies, source identity, MFA and PackedPolicySize are ignored.
 * - Endpoints are not per Region: every place shares one URL, and the place is taken from the signature, not from
 *   the host name AWS routes by. A client signing for a Region it does not send to cannot be caught.
 * - Only API Gateway is per place. Secrets Manager, Service Quotas, CloudFormation stacks and the local operator's identity are
 *   one set for all places; Cognito (another stand-in) knows no places at all.
 * - Throttle rules are per operation across every place, where AWS's rate limits are per account and Region
 *   (CreateApiKey: 5 per second per account).
 * - A place nobody seeded exists, empty; AWS answers for any Region it has, and refuses Regions that do not exist or
 *   are not enabled for the account (opt-in Regions), which the stand-in does not.
 * - The 10,000-key quota's answer (LimitExceededException, 429) is our reading of how API Gateway refuses its other
 *   resource quotas; AWS does not document what CreateApiKey answers when the Region is full.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PlaceId, placeId } from '#commons/places';
import { type ApiGatewaySeed, type ApiKeyView, resolveApiGatewayCall, toApiKeyView } from './api-gateway.ts';
import { ApiGatewayPlaces, checkPlaceId } from './api-gateway-places.ts';
import {
  AwsError,
  type JsonObject,
  parseJsonObject,
  readBody,
  type Reply,
  type RequestContext,
  type ResolvedCall,
  send,
  toAwsError,
  type UnknownCall,
} from './aws-protocol.ts';
import { isQueryRequest, type LocalStack, parseQueryBody, QueryServicesState, resolveQueryCall } from './cloudformation-sts.ts';
import { type Fault, FaultQueue, type ThrottleRule, Throttles } from './faults-and-throttles.ts';
import { DEFAULT_PLACE, DEFAULT_REGION, signingScope } from './request-place.ts';
import { currentVersion, resolveSecretsManagerCall, SecretsManagerState } from './secrets-manager.ts';
import { resolveServiceQuotasCall, SERVICE_QUOTAS_TARGET_PREFIX, ServiceQuotasState, type ServiceQuotasSettings } from './service-quotas.ts';
import type { LocalRole } from './sts-identities.ts';

export type { PlaceId } from '#commons/places';
export type { ApiGatewaySeed, ApiKeyView } from './api-gateway.ts';
export type { LocalStack } from './cloudformation-sts.ts';
export type { Fault, ThrottleRule } from './faults-and-throttles.ts';
export type { ServiceQuotasSettings } from './service-quotas.ts';
export { DEFAULT_ACCOUNT, DEFAULT_PLACE, DEFAULT_REGION } from './request-place.ts';
export type { LocalRole } from './sts-identities.ts';

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/** The resources that exist before any request: APIs and plans are read-only here. */
export interface ControlPlaneSeed extends ApiGatewaySeed {
  secrets?: { name: string; secretString: string }[];
}

export interface StartOptions {
  /** The resources of the default place, `000000000000/us-east-1` (DEFAULT_PLACE), and the secrets. */
  seed?: ControlPlaneSeed;
  /**
   * API Gateway resources of further places, keyed `account/region` (e.g. `222222222222/eu-west-1`). Any other
   * place starts empty. The default place is `seed`'s, not listed here.
   */
  places?: Record<PlaceId, ApiGatewaySeed>;
  /** Roles STS AssumeRole hands out credentials for; calls signed with those credentials act in the role's account. */
  roles?: LocalRole[];
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 0, an ephemeral port. */
  port?: number;
  /** Throttle rules keyed by operation name, e.g. `CreateApiKey`. */
  throttle?: Partial<Record<string, ThrottleRule>>;
  /** What Service Quotas answers: the applied quota of app clients per user pool (default 1,000), or AccessDenied. */
  serviceQuotas?: ServiceQuotasSettings;
}

export interface AwsControlPlane {
  /** Base URL, e.g. http://127.0.0.1:PORT. */
  url: string;
  /** Read-only copies of one place's API keys (default: DEFAULT_PLACE), for assertions. */
  apiKeys(place?: PlaceId): ApiKeyView[];
  /** Ids of the API keys linked to a usage plan of one place (default: DEFAULT_PLACE); throws for an unknown plan. */
  usagePlanKeyIds(usagePlanId: string, place?: PlaceId): string[];
  /** Makes DescribeStacks answer for this stack (replacing one of the same name). */
  putStack(stack: LocalStack): void;
  /** The AWSCURRENT value of a secret, if the secret exists and has one. */
  secret(name: string): string | undefined;
  /** Requests per operation name, including throttled and failed ones: in one place, or (without one) in all. */
  calls(place?: PlaceId): Record<string, number>;
  /** AssumeRole requests naming this role, refused ones included: a cached credential makes none. */
  assumedRoleCalls(roleArn: string): number;
  /**
   * The next `times` (default 1) calls of `operation` suffer `fault`: in `options.place` only, or (without one) in
   * any place. Faults queue up per operation; a call takes the oldest one aimed at it.
   */
  injectFault(operation: string, fault: Fault, times?: number, options?: { place?: PlaceId }): void;
  clearFaults(): void;
  /** Changes what Service Quotas answers (the settings given are merged into the current ones) until the next reset. */
  setServiceQuotas(settings: ServiceQuotasSettings): void;
  /** Sets (or with `undefined` removes) the throttle rule of one operation; the bucket starts full. */
  setThrottle(operation: string, rule: ThrottleRule | undefined): void;
  /**
   * Back to a seeded state: resources from `seed` and `places` (default: those given at start; every other place
   * empty), call counts zeroed, faults cleared, throttle rules as given at start with full buckets. Roles and the
   * sessions they handed out outlive it, as stacks do: clients keep their cached credentials across tests.
   */
  reset(seed?: ControlPlaneSeed, places?: Record<PlaceId, ApiGatewaySeed>): void;
  close(): Promise<void>;
}

export async function startAwsControlPlane(options: StartOptions = {}): Promise<AwsControlPlane> {
  const host = options.host ?? '127.0.0.1';
  const startSeed = options.seed ?? EMPTY_SEED;
  const startPlaces = options.places ?? {};
  const harness = new Harness(startSeed, startPlaces, options.roles ?? [], options.throttle ?? {}, options.serviceQuotas ?? {});
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
    apiKeys: (place = DEFAULT_PLACE) => [...harness.apiGatewayAt(place).apiKeys.values()].map(toApiKeyView),
    usagePlanKeyIds: (usagePlanId, place = DEFAULT_PLACE) => {
      const plan = harness.apiGatewayAt(place).usagePlans.get(usagePlanId);
      if (!plan) throw new Error(`Unknown usage plan ${usagePlanId} in ${place}`);
      return [...plan.keyIds];
    },
    putStack: (stack) => harness.state.query.putStack(stack),
    secret: (name) => currentVersion(harness.state.secretsManager.secrets.get(name))?.secretString,
    calls: (place) => Object.fromEntries(place === undefined ? harness.calls : harness.callsIn(place)),
    assumedRoleCalls: (roleArn) => harness.state.query.identities.assumeRoleCalls.get(roleArn) ?? 0,
    injectFault: (operation, fault, times = 1, { place } = {}) => {
      if (place !== undefined) checkPlaceId(place);
      harness.faults.inject(operation, fault, times, place);
    },
    clearFaults: () => harness.faults.clear(),
    setServiceQuotas: (settings) => harness.state.serviceQuotas.set(settings),
    setThrottle: (operation, rule) => harness.throttles.set(operation, rule),
    reset: (seed, places) => harness.reset(seed ?? startSeed, places ?? startPlaces),
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
  const queryBody = isQueryRequest(req) ? parseQueryBody(rawBody) : undefined;
  const call = resolveCall(req, queryBody);
  if ('error' in call) {
    sendReply(res, call.protocol.renderError(call.error)); // not counted: it names no operation
    return;
  }

  const { protocol, operation } = call;
  const context = harness.contextOf(req);
  harness.count(operation, context.place, queryBody);

  const fault = harness.faults.take(operation, context.place);
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
    reply = call.run(harness.state, queryBody ?? parseJsonObject(rawBody), context);
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
 * Form-encoded calls are the query protocol (CloudFormation, STS); Service Quotas and Secrets Manager
 * calls are recognised by their target header; everything else is API Gateway.
 */
function resolveCall(req: IncomingMessage, queryBody: JsonObject | undefined): ResolvedCall<ControlPlaneState> | UnknownCall {
  if (queryBody) return forService(resolveQueryCall(queryBody), (state) => state.query);
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith(SERVICE_QUOTAS_TARGET_PREFIX)) {
    return forService(resolveServiceQuotasCall(req, target), (state) => state.serviceQuotas);
  }
  const call =
    typeof target === 'string'
      ? forService(resolveSecretsManagerCall(req, target), (state) => state.secretsManager)
      : forService(resolveApiGatewayCall(req), (state, { place }) => state.apiGateway.at(place));
  return call;
}

/** A service's call, run against that service's part of the state current when it runs (API Gateway's: the request's place's). */
function forService<S>(
  call: ResolvedCall<S> | UnknownCall,
  partOf: (state: ControlPlaneState, context: RequestContext) => S,
): ResolvedCall<ControlPlaneState> | UnknownCall {
  if ('error' in call) return call;
  return { ...call, run: (state, body, context) => call.run(partOf(state, context), body, context) };
}

/**
 * The resources of every service; the stacks, roles and sessions outlive a reset (they describe the deployment
 * and who may call it, not its state).
 */
class ControlPlaneState {
  readonly apiGateway: ApiGatewayPlaces;
  readonly secretsManager: SecretsManagerState;
  readonly serviceQuotas: ServiceQuotasState;

  constructor(
    seed: ControlPlaneSeed,
    places: Readonly<Record<PlaceId, ApiGatewaySeed>>,
    readonly query: QueryServicesState,
    serviceQuotas: ServiceQuotasSettings,
  ) {
    if (DEFAULT_PLACE in places) throw new Error(`The default place ${DEFAULT_PLACE} is seeded by \`seed\`, not \`places\``);
    this.apiGateway = new ApiGatewayPlaces({ ...places, [DEFAULT_PLACE]: seed });
    this.secretsManager = new SecretsManagerState(seed.secrets);
    this.serviceQuotas = new ServiceQuotasState(serviceQuotas);
  }
}

/** Everything a running stand-in tracks besides the AWS resources themselves. */
class Harness {
  state: ControlPlaneState;
  readonly calls = new Map<string, number>();
  readonly callsByPlace = new Map<PlaceId, Map<string, number>>();
  readonly faults = new FaultQueue();
  readonly throttles: Throttles;

  constructor(
    seed: ControlPlaneSeed,
    places: Readonly<Record<PlaceId, ApiGatewaySeed>>,
    roles: readonly LocalRole[],
    private readonly initialThrottle: Partial<Record<string, ThrottleRule>>,
    private readonly initialServiceQuotas: ServiceQuotasSettings,
  ) {
    this.state = new ControlPlaneState(seed, places, new QueryServicesState(roles), initialServiceQuotas);
    this.throttles = new Throttles(initialThrottle);
  }

  /** The caller behind the request's access key, and the place it addresses (see request-place.ts). */
  contextOf(req: IncomingMessage): RequestContext {
    const scope = signingScope(req);
    const caller = this.state.query.identities.caller(scope.accessKeyId);
    return { caller, place: placeId({ account: caller.account, region: scope.region ?? DEFAULT_REGION }) };
  }

  apiGatewayAt(place: PlaceId) {
    checkPlaceId(place);
    return this.state.apiGateway.at(place);
  }

  callsIn(place: PlaceId): Map<string, number> {
    checkPlaceId(place);
    return this.callsByPlace.get(place) ?? new Map();
  }

  count(operation: string, place: PlaceId, queryBody: JsonObject | undefined): void {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    const inPlace = this.callsByPlace.get(place) ?? new Map<string, number>();
    inPlace.set(operation, (inPlace.get(operation) ?? 0) + 1);
    this.callsByPlace.set(place, inPlace);
    if (operation === 'AssumeRole') this.state.query.identities.countAssumeRole(queryBody?.RoleArn);
  }

  reset(seed: ControlPlaneSeed, places: Readonly<Record<PlaceId, ApiGatewaySeed>>): void {
    this.state = new ControlPlaneState(seed, places, this.state.query, this.initialServiceQuotas);
    this.calls.clear();
    this.callsByPlace.clear();
    this.state.query.identities.assumeRoleCalls.clear();
    this.faults.clear();
    this.throttles.reset(this.initialThrottle);
  }
}
