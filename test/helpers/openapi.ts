import { readFileSync } from 'node:fs';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { isObject, type JsonObject } from './json.ts';

/**
 * `openapi/webhook.yaml`, loaded once, and the few questions tests ask of it:
 * its examples, and whether a response the webhook produced is one it documents.
 */

type Json = JsonObject;
export interface NamedExample {
  name: string;
  value: unknown;
}
export interface ResponseLike {
  statusCode: number;
  headers?: Record<string, unknown>;
  body?: string;
}

const documentUrl = new URL('../../openapi/webhook.yaml', import.meta.url);
/** The `$id` under which the document is known to Ajv, so that `#/components/...` refs resolve. */
const documentId = 'https://portal-credentials-webhook.local/openapi/webhook.yaml';

export const openApiDocument: Json = parse(readFileSync(documentUrl, 'utf8')) as Json;

export const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Escapes one JSON-pointer segment (RFC 6901). */
export const pointerSegment = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/** The value at a local JSON pointer (`#/a/b`) in the document, or `undefined` when nothing is there. */
export const resolvePointer = (ref: string): unknown => {
  if (ref === '#') return openApiDocument;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = openApiDocument;
  for (const raw of ref.slice(2).split('/')) {
    const segment = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Json)[segment];
    if (node === undefined) return undefined;
  }
  return node;
};

/** Follows `$ref` (Reference Objects) until a concrete object, keeping the pointer of where it ended. */
const dereference = (node: unknown, pointer: string): { node: Json; pointer: string } | undefined => {
  const seen = new Set<string>();
  let current: unknown = node;
  let at = pointer;
  while (isObject(current) && typeof current.$ref === 'string') {
    if (seen.has(current.$ref)) throw new Error(`OpenAPI document: $ref cycle at ${current.$ref}`);
    seen.add(current.$ref);
    at = current.$ref;
    current = resolvePointer(current.$ref);
  }
  return isObject(current) ? { node: current, pointer: at } : undefined;
};

const child = (pointer: string, ...segments: string[]) => [pointer, ...segments.map(pointerSegment)].join('/');

const operation = (method: string, path: string) => {
  const lower = method.toLowerCase();
  const paths = openApiDocument.paths;
  const pathItem = isObject(paths) ? paths[path] : undefined;
  if (!isObject(pathItem)) throw new Error(`OpenAPI document has no path ${path}`);
  const found = dereference(pathItem[lower], child('#', 'paths', path, lower));
  if (!found) throw new Error(`OpenAPI document has no operation ${method.toUpperCase()} ${path}`);
  return found;
};

const namedExamples = (mediaType: Json | undefined): NamedExample[] => {
  if (!mediaType || !isObject(mediaType.examples)) return [];
  return Object.entries(mediaType.examples).map(([name, example]) => {
    const resolved = dereference(example, '');
    if (!resolved || !('value' in resolved.node)) throw new Error(`OpenAPI example ${name} has no value`);
    return { name, value: resolved.node.value };
  });
};

const jsonMediaType = (content: unknown): Json | undefined => {
  if (!isObject(content)) return undefined;
  const media = content['application/json'];
  return isObject(media) ? media : undefined;
};

const requestOperation = (path: string) => {
  const methods = httpMethods.filter((method) => {
    try {
      return operation(method, path).node.requestBody !== undefined;
    } catch {
      return false;
    }
  });
  const [method] = methods;
  if (method === undefined || methods.length > 1) throw new Error(`OpenAPI document: expected one operation with a request body on ${path}`);
  return { method, ...operation(method, path) };
};

/** The named examples of the JSON request body of the (single) operation on `path` that takes one. */
export const requestExamples = (path: string): NamedExample[] => {
  const { node, pointer } = requestOperation(path);
  const body = dereference(node.requestBody, child(pointer, 'requestBody'));
  return namedExamples(jsonMediaType(body?.node.content));
};

/** The documented response of an operation for a status code (exact code, then `4XX`-style range, then `default`). */
const documentedResponse = (method: string, path: string, statusCode: number) => {
  const { node, pointer } = operation(method, path);
  const responses = isObject(node.responses) ? node.responses : {};
  const key = [String(statusCode), `${String(statusCode).charAt(0)}XX`, 'default'].find((candidate) => candidate in responses);
  if (key === undefined) return undefined;
  const found = dereference(responses[key], child(pointer, 'responses', key));
  if (!found) throw new Error(`OpenAPI document: response ${key} of ${method.toUpperCase()} ${path} does not resolve`);
  return found;
};

/** The named JSON examples documented for one response. */
export const responseExamples = (path: string, method: string, status: number | string): NamedExample[] => {
  const response = documentedResponse(method, path, Number(status));
  if (!response) throw new Error(`OpenAPI document: ${method.toUpperCase()} ${path} documents no ${status} response`);
  return namedExamples(jsonMediaType(response.node.content));
};

// Strict about unknown keywords (a typo in the document fails), lenient where JSON Schema composition is legitimate.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
addFormats(ajv);
// The document's top-level fields, and OpenAPI's own schema keywords, are annotations
// for Ajv (for the discriminator, oneOf + const already decide the branch).
ajv.addVocabulary(['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security', 'tags']);
ajv.addVocabulary(['discriminator', 'example', 'xml', 'externalDocs']);
ajv.addSchema({ ...openApiDocument, $id: documentId });

const validators = new Map<string, ValidateFunction>();
/** An Ajv validator for the schema at a local pointer of the document. */
export const validatorAt = (pointer: string): ValidateFunction => {
  let validate = validators.get(pointer);
  if (!validate) {
    if (resolvePointer(pointer) === undefined) throw new Error(`OpenAPI document has nothing at ${pointer}`);
    validate = ajv.compile({ $ref: `${documentId}${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
};

const describeErrors = (errors: ErrorObject[] | null | undefined): string =>
  (errors ?? []).map((error) => `  - ${error.instancePath || '(root)'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`).join('\n');

/** Ajv's complaints (empty when valid) about `value` against the schema at `pointer`. */
export const schemaErrors = (pointer: string, value: unknown): string[] => {
  const validate = validatorAt(pointer);
  return validate(value) ? [] : describeErrors(validate.errors).split('\n');
};

/** Ajv's complaints (empty when valid) about a request body sent to `path`, against the documented schema. */
export const requestSchemaErrors = (path: string, body: unknown): string[] => {
  const { node, pointer } = requestOperation(path);
  const requestBody = dereference(node.requestBody, child(pointer, 'requestBody'));
  if (!requestBody || !jsonMediaType(requestBody.node.content)?.schema) throw new Error(`OpenAPI document: ${path} documents no JSON request schema`);
  return schemaErrors(child(requestBody.pointer, 'content', 'application/json', 'schema'), body);
};

const headerValue = (headers: Record<string, unknown> | undefined, name: string): unknown => {
  const entry = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase());
  return entry?.[1];
};

/**
 * Fails (throws) unless `response` is one the document promises for `method path`:
 * its status is documented, its JSON body matches the documented schema (or it
 * is empty when nothing is documented), and required headers are present and
 * well-formed.
 */
export const expectResponseMatchesOpenApi = (method: string, path: string, response: ResponseLike): void => {
  const where = `${method.toUpperCase()} ${path} → ${response.statusCode}`;
  const documented = documentedResponse(method, path.split('?')[0] ?? path, response.statusCode);
  if (!documented) {
    const { node } = operation(method, path.split('?')[0] ?? path);
    const known = isObject(node.responses) ? Object.keys(node.responses).join(', ') : 'none';
    throw new Error(`${where}: status ${response.statusCode} is not documented in openapi/webhook.yaml (documented: ${known})`);
  }

  const headers = isObject(documented.node.headers) ? documented.node.headers : {};
  for (const [name, declared] of Object.entries(headers)) {
    const header = dereference(declared, child(documented.pointer, 'headers', name));
    if (!header) continue;
    const value = headerValue(response.headers, name);
    if (value === undefined) {
      if (header.node.required === true) throw new Error(`${where}: the documented header ${name} is missing`);
      continue;
    }
    if (isObject(header.node.schema)) {
      const errors = schemaErrors(child(header.pointer, 'schema'), String(value));
      if (errors.length > 0) throw new Error(`${where}: header ${name}: ${JSON.stringify(value)} does not match the document:\n${errors.join('\n')}`);
    }
  }

  const content = isObject(documented.node.content) ? documented.node.content : undefined;
  const body = response.body ?? '';
  if (!content || Object.keys(content).length === 0) {
    if (body !== '') throw new Error(`${where}: the document promises an empty body, got ${JSON.stringify(body.slice(0, 200))}`);
    return;
  }

  const contentType = headerValue(response.headers, 'content-type');
  if (contentType !== undefined) {
    const mediaType = String(contentType).split(';')[0]?.trim().toLowerCase() ?? '';
    if (!(mediaType in content))
      throw new Error(`${where}: Content-Type ${String(contentType)} is not documented (documented: ${Object.keys(content).join(', ')})`);
  }

  const media = jsonMediaType(content);
  if (!media?.schema) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`${where}: the document promises a JSON body, got ${JSON.stringify(body.slice(0, 200))}`);
  }
  const errors = schemaErrors(child(documented.pointer, 'content', 'application/json', 'schema'), parsed);
  if (errors.length > 0) throw new Error(`${where}: the body does not match the document:\n${errors.join('\n')}\nbody: ${body.slice(0, 500)}`);
};
