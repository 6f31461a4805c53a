/**
 * Local stand-in for the AWS API Gateway control plane and AWS Secrets Manager.
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
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/** The resources that exist before any request: APIs and plans are read-only here. */
export interface ControlPlaneSeed {
  restApis: { id: string; name: string }[];
  usagePlans: { id: string; name: string; apiStages: { apiId: string; stage: string }[] }[];
  secrets?: { name: string; secretString: string }[];
}

/** A token bucket: `burst` calls at once, refilled at `ratePerSecond`. A burst of 0 throttles every call. */
export interface ThrottleRule {
  ratePerSecond: number;
  burst: number;
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

export interface ApiKeyView {
  id: string;
  name: string;
  value: string;
  enabled: boolean;
  customerId?: string;
  description?: string;
  tags: Record<string, string>;
}

export interface AwsControlPlane {
  /** Base URL, e.g. http://127.0.0.1:PORT. */
  url: string;
  /** Read-only copies of the state, for assertions. */
  apiKeys(): ApiKeyView[];
  /** Ids of the API keys linked to a usage plan; throws for an unknown plan. */
  usagePlanKeyIds(usagePlanId: string): string[];
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
    apiKeys: () => [...harness.state.apiKeys.values()].map(toApiKeyView),
    usagePlanKeyIds: (usagePlanId) => {
      const plan = harness.state.usagePlans.get(usagePlanId);
      if (!plan) throw new Error(`Unknown usage plan ${usagePlanId}`);
      return [...plan.keyIds];
    },
    secret: (name) => currentVersion(harness.state.secrets.get(name))?.secretString,
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
  const call = resolveCall(req);
  if ('error' in call) {
    send(res, call.protocol.renderError(call.error)); // not counted: it names no operation
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
    reply = call.run(harness.state, parseJsonObject(rawBody));
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
  send(res, reply);
}

/** Secrets Manager calls are recognised by their target header; everything else is API Gateway. */
function resolveCall(req: IncomingMessage): ResolvedCall | UnknownCall {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return resolveSecretsManagerCall(req, target);
  return resolveApiGatewayCall(req);
}

interface ResolvedCall {
  protocol: WireProtocol;
  operation: string;
  run(state: ControlPlaneState, body: JsonObject): Reply;
}

/** A request that addresses no implemented operation. */
interface UnknownCall {
  protocol: WireProtocol;
  error: AwsError;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, reply: Reply): void {
  const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'x-amzn-RequestId': randomUUID(),
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

// ---------------------------------------------------------------------------
// Errors and the two wire protocols
// ---------------------------------------------------------------------------

/** An AWS service error; each protocol renders it in the shape its SDK deserializer expects. */
class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Input that fails validation; each protocol maps it to its own validation error. */
class InvalidInputError extends Error {}

interface WireProtocol {
  throttlingError(retryAfterSeconds: number): AwsError;
  invalidInputError(message: string): AwsError;
  renderError(error: AwsError): Reply;
}

const JSON_CONTENT = { 'content-type': 'application/json' };
const AWS_JSON_1_1_CONTENT = { 'content-type': 'application/x-amz-json-1.1' };

/** API Gateway: the SDK reads the error name from `x-amzn-ErrorType` and the text from `message`. */
const restJson1: WireProtocol = {
  throttlingError: (retryAfterSeconds) =>
    new AwsError(429, 'TooManyRequestsException', 'Too Many Requests', { 'Retry-After': String(retryAfterSeconds) }),
  invalidInputError: (message) => badRequest(message),
  renderError: (error) => ({
    status: error.status,
    headers: { ...JSON_CONTENT, 'x-amzn-ErrorType': error.errorType, ...error.headers },
    body: { message: error.message },
  }),
};

/**
 * Secrets Manager: the SDK reads the error name from `__type`. The service itself spells the text
 * `Message` (the modelled member); `message` is sent too so non-SDK readers find it either way.
 */
const awsJson1_1: WireProtocol = {
  // Secrets Manager does not model a throttling error; the service answers 400 ThrottlingException,
  // a name the SDK's retry strategy knows as throttling.
  throttlingError: () => new AwsError(400, 'ThrottlingException', 'Rate exceeded'),
  invalidInputError: (message) => new AwsError(400, 'InvalidParameterException', message),
  renderError: (error) => ({
    status: error.status,
    headers: { ...AWS_JSON_1_1_CONTENT, ...error.headers },
    body: { __type: error.errorType, message: error.message, Message: error.message },
  }),
};

function toAwsError(error: unknown, protocol: WireProtocol): AwsError {
  if (error instanceof AwsError) return error;
  if (error instanceof InvalidInputError) return protocol.invalidInputError(error.message);
  console.error('aws-control-plane: handler failed', error);
  return new AwsError(500, 'InternalFailure', `Stand-in failure: ${String(error)}`);
}

const badRequest = (message: string) => new AwsError(400, 'BadRequestException', message);
const notFound = (message: string) => new AwsError(404, 'NotFoundException', message);
const conflict = (message: string) => new AwsError(409, 'ConflictException', message);
const limitExceeded = (message: string) => new AwsError(429, 'LimitExceededException', message);

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

interface ApiKeyRecord {
  id: string;
  name?: string;
  value: string;
  enabled: boolean;
  customerId?: string;
  description?: string;
  tags: Record<string, string>;
  createdDate: Date;
  lastUpdatedDate: Date;
}

interface RestApiRecord {
  id: string;
  name: string;
  createdDate: Date;
}

interface UsagePlanRecord {
  id: string;
  name: string;
  apiStages: { apiId: string; stage: string }[];
  keyIds: Set<string>;
}

interface SecretVersion {
  versionId: string;
  secretString: string;
  stages: Set<string>;
  createdDate: Date;
}

interface SecretRecord {
  arn: string;
  name: string;
  description?: string;
  tags: { Key: string; Value: string }[];
  createdDate: Date;
  lastChangedDate: Date;
  versions: SecretVersion[];
}

class ControlPlaneState {
  readonly restApis = new Map<string, RestApiRecord>();
  readonly usagePlans = new Map<string, UsagePlanRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  /** Keyed by secret name. */
  readonly secrets = new Map<string, SecretRecord>();

  constructor(seed: ControlPlaneSeed) {
    const now = new Date();
    for (const api of seed.restApis) this.restApis.set(api.id, { ...api, createdDate: now });
    for (const plan of seed.usagePlans) {
      this.usagePlans.set(plan.id, { ...plan, apiStages: plan.apiStages.map((s) => ({ ...s })), keyIds: new Set() });
    }
    for (const secret of seed.secrets ?? []) {
      const record = newSecret(secret.name, undefined, []);
      addSecretVersion(record, randomUUID(), secret.secretString);
      this.secrets.set(record.name, record);
    }
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
    this.state = new ControlPlaneState(seed);
    this.calls.clear();
    this.faults.clear();
    this.throttles.reset(this.initialThrottle);
  }
}

// ---------------------------------------------------------------------------
// Fault injection and throttling
// ---------------------------------------------------------------------------

/** Faults waiting per operation; shared with the other stand-ins' fault injection. */
export class FaultQueue {
  private readonly pending = new Map<string, { fault: Fault; remaining: number }[]>();

  inject(operation: string, fault: Fault, times: number): void {
    if (times < 1) return;
    const queue = this.pending.get(operation) ?? [];
    queue.push({ fault, remaining: times });
    this.pending.set(operation, queue);
  }

  /** The fault the current call of `operation` suffers, if any; consumes one use of it. */
  take(operation: string): Fault | undefined {
    const head = this.pending.get(operation)?.[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining === 0) this.pending.get(operation)?.shift();
    return head.fault;
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

class Throttles {
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

// ---------------------------------------------------------------------------
// API Gateway (restJson1)
// ---------------------------------------------------------------------------

interface RestRequest {
  state: ControlPlaneState;
  params: Record<string, string>;
  query: URLSearchParams;
  body: JsonObject;
}

interface Route {
  method: string;
  /** Path template as in the SDK's `http` trait, e.g. `/apikeys/{apiKey}`. */
  path: string;
  operation: string;
  /** The success status the SDK's operation schema declares. */
  status: number;
  handle(request: RestRequest): unknown;
}

const apiGatewayRoutes: Route[] = [
  { method: 'POST', path: '/apikeys', operation: 'CreateApiKey', status: 201, handle: createApiKey },
  { method: 'GET', path: '/apikeys', operation: 'GetApiKeys', status: 200, handle: getApiKeys },
  { method: 'GET', path: '/apikeys/{apiKey}', operation: 'GetApiKey', status: 200, handle: getApiKey },
  { method: 'PATCH', path: '/apikeys/{apiKey}', operation: 'UpdateApiKey', status: 200, handle: updateApiKey },
  { method: 'DELETE', path: '/apikeys/{apiKey}', operation: 'DeleteApiKey', status: 202, handle: deleteApiKey },
  { method: 'GET', path: '/usageplans', operation: 'GetUsagePlans', status: 200, handle: getUsagePlans },
  { method: 'GET', path: '/usageplans/{usagePlanId}', operation: 'GetUsagePlan', status: 200, handle: getUsagePlan },
  { method: 'POST', path: '/usageplans/{usagePlanId}/keys', operation: 'CreateUsagePlanKey', status: 201, handle: createUsagePlanKey },
  { method: 'GET', path: '/usageplans/{usagePlanId}/keys', operation: 'GetUsagePlanKeys', status: 200, handle: getUsagePlanKeys },
  { method: 'GET', path: '/usageplans/{usagePlanId}/keys/{keyId}', operation: 'GetUsagePlanKey', status: 200, handle: getUsagePlanKey },
  { method: 'DELETE', path: '/usageplans/{usagePlanId}/keys/{keyId}', operation: 'DeleteUsagePlanKey', status: 202, handle: deleteUsagePlanKey },
  { method: 'GET', path: '/restapis', operation: 'GetRestApis', status: 200, handle: getRestApis },
  { method: 'GET', path: '/restapis/{restApiId}', operation: 'GetRestApi', status: 200, handle: getRestApi },
];

function resolveApiGatewayCall(req: IncomingMessage): ResolvedCall | UnknownCall {
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const segments = url.pathname.split('/').filter(Boolean);
  for (const route of apiGatewayRoutes) {
    if (route.method !== req.method) continue;
    const params = matchPath(route.path, segments);
    if (!params) continue;
    return {
      protocol: restJson1,
      operation: route.operation,
      run: (state, body) => {
        const result = route.handle({ state, params, query: url.searchParams, body });
        return { status: route.status, headers: JSON_CONTENT, body: result };
      },
    };
  }
  const implemented = apiGatewayRoutes.map((r) => r.operation).join(', ');
  const message = `The local API Gateway stand-in has no operation for ${req.method} ${url.pathname}. Implemented: ${implemented}`;
  return { protocol: restJson1, error: new AwsError(404, 'UnknownOperationException', message) };
}

/** Path parameters when `segments` fit the template, else undefined. */
function matchPath(template: string, segments: string[]): Record<string, string> | undefined {
  const parts = template.split('/').filter(Boolean);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    const segment = decodePathSegment(segments[index] ?? '');
    if (part.startsWith('{')) params[part.slice(1, -1)] = segment;
    else if (part !== segment) return undefined;
  }
  return params;
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// --- API keys ---------------------------------------------------------------

const MIN_API_KEY_VALUE_LENGTH = 20; // the service rejects shorter values

const MAX_API_KEY_NAME_LENGTH = 1024; // "The name can't exceed 1024 characters" (developer guide, usage plans)

/**
 * AWS's tag rules (tagging conventions; the API Gateway model's tag map has no pattern of its own): at most 50 tags,
 * keys 1-128 and values up to 256 characters of letters, digits, spaces and `_ . : / = + - @`, no `aws:` key.
 */
const MAX_TAGS = 50;
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function checkTags(tags: Record<string, string>): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) throw badRequest(`A resource can have at most ${MAX_TAGS} tags`);
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > 128 || !TAG_CHARACTERS.test(key) || key.toLowerCase().startsWith('aws:')) throw badRequest(`Invalid tag key: ${key}`);
    if (value.length > 256 || !TAG_CHARACTERS.test(value)) throw badRequest(`Invalid tag value for key ${key}`);
  }
  return tags;
}

function createApiKey({ state, body }: RestRequest): unknown {
  const name = optionalString(body, 'name');
  if (name !== undefined && name.length > MAX_API_KEY_NAME_LENGTH) {
    throw badRequest(`API Key name must not exceed ${MAX_API_KEY_NAME_LENGTH} characters`);
  }
  const value = optionalString(body, 'value') ?? randomString(40, ALPHANUMERIC);
  if (value.length < MIN_API_KEY_VALUE_LENGTH) {
    throw badRequest(`API Key value should be at least ${MIN_API_KEY_VALUE_LENGTH} characters`);
  }
  if ([...state.apiKeys.values()].some((key) => key.value === value)) {
    throw conflict('API Key value already exists');
  }
  const now = new Date();
  const key: ApiKeyRecord = {
    id: uniqueId(state.apiKeys, 10),
    name,
    value,
    enabled: optionalBoolean(body, 'enabled') ?? false, // the service default: a new key is disabled
    customerId: optionalString(body, 'customerId'),
    description: optionalString(body, 'description'),
    tags: checkTags(optionalStringMap(body, 'tags') ?? {}),
    createdDate: now,
    lastUpdatedDate: now,
  };
  state.apiKeys.set(key.id, key);
  return apiKeyToWire(key, true);
}

function getApiKey({ state, params, query }: RestRequest): unknown {
  return apiKeyToWire(findApiKey(state, params.apiKey), query.get('includeValue') === 'true');
}

/** `name` is a prefix match, `customerId` an exact one. */
function getApiKeys({ state, query }: RestRequest): unknown {
  const namePrefix = query.get('name');
  const customerId = query.get('customerId');
  const matching = [...state.apiKeys.values()].filter(
    (key) =>
      (namePrefix === null || (key.name ?? '').startsWith(namePrefix)) &&
      (customerId === null || key.customerId === customerId),
  );
  const includeValues = query.get('includeValues') === 'true';
  return listToWire(paginate(matching, query), (key) => apiKeyToWire(key, includeValues));
}

const PATCHABLE_API_KEY_FIELDS = ['/name', '/description', '/customerId', '/enabled'];

function updateApiKey({ state, params, body }: RestRequest): unknown {
  const key = findApiKey(state, params.apiKey);
  for (const operation of optionalObjectList(body, 'patchOperations') ?? []) {
    applyApiKeyPatch(key, operation);
  }
  key.lastUpdatedDate = new Date();
  return apiKeyToWire(key, false);
}

/** API Gateway patches carry string values, so `enabled` arrives as "true" or "false". */
function applyApiKeyPatch(key: ApiKeyRecord, operation: JsonObject): void {
  const op = optionalString(operation, 'op');
  const path = optionalString(operation, 'path') ?? '';
  const value = optionalString(operation, 'value');
  if (op !== 'replace' || !PATCHABLE_API_KEY_FIELDS.includes(path)) {
    throw badRequest(`Invalid patch operation specified. Must be 'replace' on one of ${PATCHABLE_API_KEY_FIELDS.join(', ')}`);
  }
  if (path === '/enabled') {
    if (value !== 'true' && value !== 'false') throw badRequest(`Invalid value for /enabled: ${value}`);
    key.enabled = value === 'true';
  } else if (path === '/name') key.name = value;
  else if (path === '/description') key.description = value;
  else key.customerId = value;
}

/** Deleting a key also removes it from every usage plan, as the service does. */
function deleteApiKey({ state, params }: RestRequest): unknown {
  const key = findApiKey(state, params.apiKey);
  state.apiKeys.delete(key.id);
  for (const plan of state.usagePlans.values()) plan.keyIds.delete(key.id);
  return undefined;
}

function findApiKey(state: ControlPlaneState, id: string | undefined): ApiKeyRecord {
  const key = id === undefined ? undefined : state.apiKeys.get(id);
  if (!key) throw notFound('Invalid API Key identifier specified');
  return key;
}

function apiKeyToWire(key: ApiKeyRecord, includeValue: boolean): JsonObject {
  return {
    id: key.id,
    value: includeValue ? key.value : undefined,
    name: key.name,
    customerId: key.customerId,
    description: key.description,
    enabled: key.enabled,
    createdDate: epochSeconds(key.createdDate),
    lastUpdatedDate: epochSeconds(key.lastUpdatedDate),
    stageKeys: [],
    tags: Object.keys(key.tags).length > 0 ? key.tags : undefined,
  };
}

function toApiKeyView(key: ApiKeyRecord): ApiKeyView {
  return {
    id: key.id,
    name: key.name ?? '',
    value: key.value,
    enabled: key.enabled,
    customerId: key.customerId,
    description: key.description,
    tags: { ...key.tags },
  };
}

// --- Usage plans and their keys ---------------------------------------------

const MAX_USAGE_PLANS_PER_API_KEY = 10; // AWS quota "usage plans per API key"

/** `keyId` narrows the list to the plans that key is linked to. */
function getUsagePlans({ state, query }: RestRequest): unknown {
  const keyId = query.get('keyId');
  const plans = [...state.usagePlans.values()].filter((plan) => keyId === null || plan.keyIds.has(keyId));
  return listToWire(paginate(plans, query), usagePlanToWire);
}

function getUsagePlan({ state, params }: RestRequest): unknown {
  return usagePlanToWire(findUsagePlan(state, params.usagePlanId));
}

function createUsagePlanKey({ state, params, body }: RestRequest): unknown {
  const plan = findUsagePlan(state, params.usagePlanId);
  const keyType = optionalString(body, 'keyType');
  if (keyType !== 'API_KEY') throw badRequest(`Invalid keyType: ${keyType}. Must be API_KEY`);
  const key = findApiKey(state, requiredString(body, 'keyId'));
  if (plan.keyIds.has(key.id)) {
    throw conflict(`Usage Plan ${plan.id} cannot be added because API Key ${key.id} already exists in it`);
  }
  const linkedPlans = [...state.usagePlans.values()].filter((p) => p.keyIds.has(key.id));
  // "A given API key can be associated with only one usage plan for each stage of your API" (developer guide).
  // AWS documents the rule, not its error: ConflictException is our best reading (see the README).
  const sharedStage = plan.apiStages.find((stage) => linkedPlans.some((p) => p.apiStages.some((s) => s.apiId === stage.apiId && s.stage === stage.stage)));
  if (sharedStage) {
    throw conflict(
      `Usage Plan ${plan.id} cannot be added because API Key ${key.id} cannot reference multiple Usage Plans with the same API Stage: ${sharedStage.apiId}:${sharedStage.stage}`,
    );
  }
  if (linkedPlans.length >= MAX_USAGE_PLANS_PER_API_KEY) {
    throw limitExceeded(`API Key ${key.id} cannot be added to more than ${MAX_USAGE_PLANS_PER_API_KEY} usage plans`);
  }
  plan.keyIds.add(key.id);
  return usagePlanKeyToWire(key);
}

/** `name` is a prefix match on the key name, as for GetApiKeys. */
function getUsagePlanKeys({ state, params, query }: RestRequest): unknown {
  const plan = findUsagePlan(state, params.usagePlanId);
  const namePrefix = query.get('name');
  const keys = [...plan.keyIds]
    .map((id) => findApiKey(state, id))
    .filter((key) => namePrefix === null || (key.name ?? '').startsWith(namePrefix));
  return listToWire(paginate(keys, query), usagePlanKeyToWire);
}

function getUsagePlanKey({ state, params }: RestRequest): unknown {
  return usagePlanKeyToWire(findLinkedKey(state, params));
}

function deleteUsagePlanKey({ state, params }: RestRequest): unknown {
  const key = findLinkedKey(state, params);
  findUsagePlan(state, params.usagePlanId).keyIds.delete(key.id);
  return undefined;
}

function findLinkedKey(state: ControlPlaneState, params: Record<string, string>): ApiKeyRecord {
  const plan = findUsagePlan(state, params.usagePlanId);
  const keyId = params.keyId ?? '';
  if (!plan.keyIds.has(keyId)) throw notFound(`Invalid API Key identifier specified: ${keyId} is not in usage plan ${plan.id}`);
  return findApiKey(state, keyId);
}

function findUsagePlan(state: ControlPlaneState, id: string | undefined): UsagePlanRecord {
  const plan = id === undefined ? undefined : state.usagePlans.get(id);
  if (!plan) throw notFound('Invalid Usage Plan ID specified');
  return plan;
}

function usagePlanToWire(plan: UsagePlanRecord): JsonObject {
  return { id: plan.id, name: plan.name, apiStages: plan.apiStages };
}

function usagePlanKeyToWire(key: ApiKeyRecord): JsonObject {
  return { id: key.id, type: 'API_KEY', value: key.value, name: key.name };
}

// --- REST APIs ----------------------------------------------------------------

function getRestApis({ state, query }: RestRequest): unknown {
  return listToWire(paginate([...state.restApis.values()], query), restApiToWire);
}

function getRestApi({ state, params }: RestRequest): unknown {
  const api = params.restApiId === undefined ? undefined : state.restApis.get(params.restApiId);
  if (!api) throw notFound('Invalid API identifier specified');
  return restApiToWire(api);
}

function restApiToWire(api: RestApiRecord): JsonObject {
  return {
    id: api.id,
    name: api.name,
    createdDate: epochSeconds(api.createdDate),
    apiKeySource: 'HEADER',
    endpointConfiguration: { types: ['REGIONAL'] },
  };
}

// --- Pagination -----------------------------------------------------------------

const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 500;

interface Page<T> {
  items: T[];
  /** Opaque token for the next page; absent on the last page. */
  position?: string;
}

/**
 * Pages in id order. The token encodes the last id served, so deleting
 * items between pages neither skips nor repeats the others.
 */
function paginate<T extends { id: string }>(all: T[], query: URLSearchParams): Page<T> {
  const limit = parseLimit(query.get('limit'));
  const after = decodePosition(query.get('position'));
  const remaining = [...all].sort((a, b) => compareIds(a.id, b.id)).filter((item) => after === undefined || compareIds(item.id, after) > 0);
  const items = remaining.slice(0, limit);
  const last = items.at(-1);
  const position = remaining.length > limit && last ? Buffer.from(last.id).toString('base64url') : undefined;
  return { items, position };
}

function parseLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_PAGE_SIZE;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw badRequest(`Invalid limit ${raw}: must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  }
  return limit;
}

function decodePosition(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  const id = Buffer.from(raw, 'base64url').toString('utf8');
  if (id === '' || Buffer.from(id).toString('base64url') !== raw) throw badRequest('Invalid position parameter');
  return id;
}

const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** API Gateway lists its elements under `item` on the wire; the SDK maps that to `items`. */
function listToWire<T>(page: Page<T>, toWire: (item: T) => JsonObject): JsonObject {
  return { item: page.items.map(toWire), position: page.position };
}

// ---------------------------------------------------------------------------
// Secrets Manager (awsJson1_1)
// ---------------------------------------------------------------------------

type SecretsOperation = (state: ControlPlaneState, body: JsonObject) => JsonObject;

const secretsManagerOperations: Record<string, SecretsOperation> = {
  CreateSecret: createSecret,
  GetSecretValue: getSecretValue,
  PutSecretValue: putSecretValue,
  DescribeSecret: describeSecret,
};

const SECRETS_MANAGER_TARGET_PREFIX = 'secretsmanager.';

function resolveSecretsManagerCall(req: IncomingMessage, target: string): ResolvedCall | UnknownCall {
  const operation = target.startsWith(SECRETS_MANAGER_TARGET_PREFIX) ? target.slice(SECRETS_MANAGER_TARGET_PREFIX.length) : undefined;
  const run = operation === undefined ? undefined : secretsManagerOperations[operation];
  if (req.method !== 'POST' || operation === undefined || !run) {
    const implemented = Object.keys(secretsManagerOperations).join(', ');
    const message = `The local Secrets Manager stand-in has no operation ${target}. Implemented: ${implemented}`;
    return { protocol: awsJson1_1, error: new AwsError(400, 'UnknownOperationException', message) };
  }
  return {
    protocol: awsJson1_1,
    operation,
    run: (state, body) => ({ status: 200, headers: AWS_JSON_1_1_CONTENT, body: run(state, body) }),
  };
}

const AWSCURRENT = 'AWSCURRENT';
const AWSPREVIOUS = 'AWSPREVIOUS';

function createSecret(state: ControlPlaneState, body: JsonObject): JsonObject {
  const name = requiredString(body, 'Name');
  rejectSecretBinary(body);
  if (state.secrets.has(name)) {
    throw new AwsError(400, 'ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
  }
  const secret = newSecret(name, optionalString(body, 'Description'), optionalTags(body));
  const secretString = optionalString(body, 'SecretString');
  // Without a value the service creates the secret with no version at all.
  const version = secretString === undefined ? undefined : addSecretVersion(secret, versionIdFrom(body), secretString);
  state.secrets.set(name, secret);
  return { ARN: secret.arn, Name: secret.name, VersionId: version?.versionId };
}

function getSecretValue(state: ControlPlaneState, body: JsonObject): JsonObject {
  const secret = findSecret(state, requiredString(body, 'SecretId'));
  const versionId = optionalString(body, 'VersionId');
  const stage = optionalString(body, 'VersionStage') ?? (versionId === undefined ? AWSCURRENT : undefined);
  const version = secret.versions.find(
    (v) => (versionId === undefined || v.versionId === versionId) && (stage === undefined || v.stages.has(stage)),
  );
  if (!version) {
    throw resourceNotFound(`Secrets Manager can't find the specified secret value for ${versionId ? `VersionId: ${versionId}` : `staging label: ${stage}`}`);
  }
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    SecretString: version.secretString,
    VersionStages: [...version.stages],
    CreatedDate: epochSeconds(version.createdDate),
  };
}

/** The new value becomes AWSCURRENT and the former current one AWSPREVIOUS, as in the service. */
function putSecretValue(state: ControlPlaneState, body: JsonObject): JsonObject {
  const secret = findSecret(state, requiredString(body, 'SecretId'));
  rejectSecretBinary(body);
  const stages = optionalStringList(body, 'VersionStages');
  if (stages && (stages.length !== 1 || stages[0] !== AWSCURRENT)) {
    throw new InvalidInputError('The local stand-in only supports the default VersionStages [AWSCURRENT]');
  }
  const version = addSecretVersion(secret, versionIdFrom(body), requiredString(body, 'SecretString'));
  return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
}

function describeSecret(state: ControlPlaneState, body: JsonObject): JsonObject {
  const secret = findSecret(state, requiredString(body, 'SecretId'));
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    CreatedDate: epochSeconds(secret.createdDate),
    LastChangedDate: epochSeconds(secret.lastChangedDate),
    Tags: secret.tags.length > 0 ? secret.tags : undefined,
    VersionIdsToStages: Object.fromEntries(secret.versions.map((v) => [v.versionId, [...v.stages]])),
  };
}

/** `SecretId` may be the name or the full ARN. */
function findSecret(state: ControlPlaneState, secretId: string): SecretRecord {
  const secret = state.secrets.get(secretId) ?? [...state.secrets.values()].find((s) => s.arn === secretId);
  if (!secret) throw resourceNotFound("Secrets Manager can't find the specified secret.");
  return secret;
}

const resourceNotFound = (message: string) => new AwsError(400, 'ResourceNotFoundException', message);

function newSecret(name: string, description: string | undefined, tags: SecretRecord['tags']): SecretRecord {
  const now = new Date();
  // The service appends a hyphen and six random characters so a re-created secret gets a new ARN.
  const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-${randomString(6, ALPHANUMERIC)}`;
  return { arn, name, description, tags, createdDate: now, lastChangedDate: now, versions: [] };
}

/**
 * The SDK fills `ClientRequestToken` with a fresh UUID and the service uses it as the
 * version id, so a retried request with the same token and value is a no-op.
 */
function addSecretVersion(secret: SecretRecord, versionId: string, secretString: string): SecretVersion {
  const existing = secret.versions.find((v) => v.versionId === versionId);
  if (existing) {
    if (existing.secretString === secretString) return existing;
    throw new AwsError(400, 'ResourceExistsException', `A version with VersionId ${versionId} already exists with a different value.`);
  }
  for (const version of secret.versions) {
    version.stages.delete(AWSPREVIOUS);
    if (version.stages.delete(AWSCURRENT)) version.stages.add(AWSPREVIOUS);
  }
  const version: SecretVersion = { versionId, secretString, stages: new Set([AWSCURRENT]), createdDate: new Date() };
  // Versions without a staging label are deprecated and no longer retrievable.
  secret.versions = [...secret.versions.filter((v) => v.stages.size > 0), version];
  secret.lastChangedDate = version.createdDate;
  return version;
}

function currentVersion(secret: SecretRecord | undefined): SecretVersion | undefined {
  return secret?.versions.find((v) => v.stages.has(AWSCURRENT));
}

function versionIdFrom(body: JsonObject): string {
  return optionalString(body, 'ClientRequestToken') ?? randomUUID();
}

function rejectSecretBinary(body: JsonObject): void {
  if (body.SecretBinary !== undefined) throw new InvalidInputError('The local stand-in only supports SecretString, not SecretBinary');
}

function optionalTags(body: JsonObject): SecretRecord['tags'] {
  return (optionalObjectList(body, 'Tags') ?? []).map((tag) => ({ Key: requiredString(tag, 'Key'), Value: requiredString(tag, 'Value') }));
}

// ---------------------------------------------------------------------------
// JSON input helpers: a wrong type is the caller's fault, reported by the protocol
// ---------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An empty body counts as `{}`: bodiless GETs and DELETEs share the pipeline. */
function parseJsonObject(raw: string): JsonObject {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidInputError('Could not parse request body into json: malformed JSON');
  }
  if (!isJsonObject(parsed)) throw new InvalidInputError('Request body must be a JSON object');
  return parsed;
}

function optionalString(body: JsonObject, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidInputError(`'${key}' must be a string`);
  return value;
}

function requiredString(body: JsonObject, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined) throw new InvalidInputError(`'${key}' is required`);
  return value;
}

function optionalBoolean(body: JsonObject, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidInputError(`'${key}' must be a boolean`);
  return value;
}

function optionalStringMap(body: JsonObject, key: string): Record<string, string> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new InvalidInputError(`'${key}' must be a map of strings`);
  }
  return { ...(value as Record<string, string>) };
}

function optionalStringList(body: JsonObject, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new InvalidInputError(`'${key}' must be a list of strings`);
  }
  return value as string[];
}

function optionalObjectList(body: JsonObject, key: string): JsonObject[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every(isJsonObject)) throw new InvalidInputError(`'${key}' must be a list of objects`);
  return value;
}

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

const LOWERCASE_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALPHANUMERIC = `ABCDEFGHIJKLMNOPQRSTUVWXYZ${LOWERCASE_ALPHANUMERIC}`;

function randomString(length: number, alphabet: string): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** API Gateway ids are short lowercase alphanumerics, e.g. `a1b2c3d4e5`. */
function uniqueId(taken: Map<string, unknown>, length: number): string {
  let id: string;
  do id = randomString(length, LOWERCASE_ALPHANUMERIC);
  while (taken.has(id));
  return id;
}

/** Both protocols default timestamps to epoch seconds. */
function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
