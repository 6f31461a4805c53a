/**
 * The API Gateway control plane's stand-in (restJson1): the operation is chosen by method and path,
 * errors carry the `x-amzn-ErrorType` header, a `{"message"}` body and the modelled status code, and
 * list results sit under `item` (the SDK renames it to `items`).
 */
import type { IncomingMessage } from 'node:http';
import {
  ALPHANUMERIC,
  AwsError,
  epochSeconds,
  JSON_CONTENT,
  type JsonObject,
  optionalBoolean,
  optionalObjectList,
  optionalString,
  optionalStringMap,
  randomString,
  requiredString,
  type ResolvedCall,
  type UnknownCall,
  uniqueId,
  type WireProtocol,
} from './aws-protocol.ts';

export interface ApiKeyView {
  id: string;
  name: string;
  value: string;
  enabled: boolean;
  customerId?: string;
  description?: string;
  tags: Record<string, string>;
}

/** API Gateway: the SDK reads the error name from `x-amzn-ErrorType` and the text from `message`. */
export const restJson1: WireProtocol = {
  throttlingError: (retryAfterSeconds) =>
    new AwsError(429, 'TooManyRequestsException', 'Too Many Requests', { 'Retry-After': String(retryAfterSeconds) }),
  invalidInputError: (message) => badRequest(message),
  renderError: (error) => ({
    status: error.status,
    headers: { ...JSON_CONTENT, 'x-amzn-ErrorType': error.errorType, ...error.headers },
    body: { message: error.message },
  }),
};

const badRequest = (message: string) => new AwsError(400, 'BadRequestException', message);
const notFound = (message: string) => new AwsError(404, 'NotFoundException', message);
const conflict = (message: string) => new AwsError(409, 'ConflictException', message);
const limitExceeded = (message: string) => new AwsError(429, 'LimitExceededException', message);

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

/** The resources API Gateway holds in one account and Region: REST APIs and usage plans come from the seed, keys from calls. */
export interface ApiGatewaySeed {
  restApis: { id: string; name: string }[];
  usagePlans: { id: string; name: string; apiStages: { apiId: string; stage: string }[] }[];
  /** How many API keys the place may hold: AWS's quota is 10,000 per account per Region, not adjustable; lower it to test a full Region. */
  apiKeyQuota?: number;
}

/**
 * "API keys per account per Region: 10000, can be increased: No"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html).
 */
export const API_KEY_QUOTA = 10_000;

export class ApiGatewayState {
  readonly restApis = new Map<string, RestApiRecord>();
  readonly usagePlans = new Map<string, UsagePlanRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  readonly apiKeyQuota: number;

  constructor(seed: ApiGatewaySeed) {
    this.apiKeyQuota = seed.apiKeyQuota ?? API_KEY_QUOTA;
    if (!(Number.isInteger(this.apiKeyQuota) && this.apiKeyQuota >= 0 && this.apiKeyQuota <= API_KEY_QUOTA)) {
      throw new Error(`apiKeyQuota must be an integer from 0 to ${API_KEY_QUOTA} (AWS's quota, not adjustable)`);
    }
    const now = new Date();
    for (const api of seed.restApis) this.restApis.set(api.id, { ...api, createdDate: now });
    for (const plan of seed.usagePlans) {
      this.usagePlans.set(plan.id, { ...plan, apiStages: plan.apiStages.map((s) => ({ ...s })), keyIds: new Set() });
    }
  }
}

interface RestRequest {
  state: ApiGatewayState;
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

export function resolveApiGatewayCall(req: IncomingMessage): ResolvedCall<ApiGatewayState> | UnknownCall {
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

/**
 * "The value is an alphanumeric string between 20 and 128 characters"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html). The guide names no
 * error: BadRequestException, the model's error for invalid input, as for a short value. AWS may accept more than
 * alphanumerics; refusing them here keeps a caller to what AWS documents.
 */
const MIN_API_KEY_VALUE_LENGTH = 20;
const MAX_API_KEY_VALUE_LENGTH = 128;
const API_KEY_VALUE_CHARACTERS = /^[A-Za-z0-9]*$/;

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
    if (key.length < 1 || key.length > 128 || !TAG_CHARACTERS.test(key) || key.toLowerCase().startsWith('aws:'))
      throw badRequest(`Invalid tag key: ${key}`);
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
  if (value.length > MAX_API_KEY_VALUE_LENGTH) {
    throw badRequest(`API Key value should be at most ${MAX_API_KEY_VALUE_LENGTH} characters`);
  }
  if (!API_KEY_VALUE_CHARACTERS.test(value)) throw badRequest('API Key value should be alphanumeric');
  if (state.apiKeys.size >= state.apiKeyQuota) {
    // What CreateApiKey answers at the 10,000-key quota is not documented. API Gateway answers its other resource quotas
    // with LimitExceededException, HTTP 429, "Maximum number of Resources for this API has been reached.  Please contact
    // AWS if you need additional Resources." and `"retryAfterSeconds":null` (hashicorp/terraform-provider-aws#37605 on
    // PutRestApi, boto/boto3#1296 on ImportRestApi): the same here, without Retry-After, checked before the value's uniqueness.
    throw limitExceeded(`Maximum number of API Keys for this account has been reached (${state.apiKeyQuota} in this Region).`);
  }
  // Values are unique per account and Region ("API key values must be unique", usage plans guide): a place holds a value
  // once, another place may hold the same one.
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
    (key) => (namePrefix === null || (key.name ?? '').startsWith(namePrefix)) && (customerId === null || key.customerId === customerId),
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

function findApiKey(state: ApiGatewayState, id: string | undefined): ApiKeyRecord {
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

export function toApiKeyView(key: ApiKeyRecord): ApiKeyView {
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
  // AWS documents the rule, not its error: ConflictException is our best reading (see docs/contributors.md, Local stand-ins).
  const sharedStage = plan.apiStages.find((stage) =>
    linkedPlans.some((p) => p.apiStages.some((s) => s.apiId === stage.apiId && s.stage === stage.stage)),
  );
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
  const keys = [...plan.keyIds].map((id) => findApiKey(state, id)).filter((key) => namePrefix === null || (key.name ?? '').startsWith(namePrefix));
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

function findLinkedKey(state: ApiGatewayState, params: Record<string, string>): ApiKeyRecord {
  const plan = findUsagePlan(state, params.usagePlanId);
  const keyId = params.keyId ?? '';
  if (!plan.keyIds.has(keyId)) throw notFound(`Invalid API Key identifier specified: ${keyId} is not in usage plan ${plan.id}`);
  return findApiKey(state, keyId);
}

function findUsagePlan(state: ApiGatewayState, id: string | undefined): UsagePlanRecord {
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
