/**
 * What the stand-ins of AWS services share: AWS errors, the wire protocols' common shape, reading
 * requests and writing replies, JSON input checks and AWS-like ids.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomInt, randomUUID } from 'node:crypto';
import type { PlaceId } from '#commons/places';
import type { Caller } from './sts-identities.ts';

/** An AWS service error; each protocol renders it in the shape its SDK deserializer expects. */
export class AwsError extends Error {
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
export class InvalidInputError extends Error {}

export interface WireProtocol {
  throttlingError(retryAfterSeconds: number): AwsError;
  invalidInputError(message: string): AwsError;
  renderError(error: AwsError): Reply;
}

export const JSON_CONTENT = { 'content-type': 'application/json' };

export function toAwsError(error: unknown, protocol: WireProtocol): AwsError {
  if (error instanceof AwsError) return error;
  if (error instanceof InvalidInputError) return protocol.invalidInputError(error.message);
  console.error('aws-control-plane: handler failed', error);
  return new AwsError(500, 'InternalFailure', `Stand-in failure: ${String(error)}`);
}

/** Who made a request and which account and Region it addresses (see request-place.ts). */
export interface RequestContext {
  caller: Caller;
  place: PlaceId;
}

/** A request resolved to one operation of a service whose state is `State`. */
export interface ResolvedCall<State> {
  protocol: WireProtocol;
  operation: string;
  run(state: State, body: JsonObject, context: RequestContext): Reply;
}

/** A request that addresses no implemented operation. */
export interface UnknownCall {
  protocol: WireProtocol;
  error: AwsError;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function send(res: ServerResponse, reply: Reply): void {
  const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'x-amzn-RequestId': randomUUID(),
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

// JSON input helpers: a wrong type is the caller's fault, reported by the protocol

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An empty body counts as `{}`: bodiless GETs and DELETEs share the pipeline. */
export function parseJsonObject(raw: string): JsonObject {
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

export function optionalString(body: JsonObject, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidInputError(`'${key}' must be a string`);
  return value;
}

export function requiredString(body: JsonObject, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined) throw new InvalidInputError(`'${key}' is required`);
  return value;
}

export function optionalBoolean(body: JsonObject, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidInputError(`'${key}' must be a boolean`);
  return value;
}

export function optionalStringMap(body: JsonObject, key: string): Record<string, string> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new InvalidInputError(`'${key}' must be a map of strings`);
  }
  return { ...(value as Record<string, string>) };
}

export function optionalStringList(body: JsonObject, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new InvalidInputError(`'${key}' must be a list of strings`);
  }
  return value as string[];
}

export function optionalObjectList(body: JsonObject, key: string): JsonObject[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every(isJsonObject)) throw new InvalidInputError(`'${key}' must be a list of objects`);
  return value;
}

export const LOWERCASE_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const ALPHANUMERIC = `ABCDEFGHIJKLMNOPQRSTUVWXYZ${LOWERCASE_ALPHANUMERIC}`;

export function randomString(length: number, alphabet: string): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** API Gateway ids are short lowercase alphanumerics, e.g. `a1b2c3d4e5`. */
export function uniqueId(taken: Map<string, unknown>, length: number): string {
  let id: string;
  do id = randomString(length, LOWERCASE_ALPHANUMERIC);
  while (taken.has(id));
  return id;
}

/** Both protocols default timestamps to epoch seconds. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
