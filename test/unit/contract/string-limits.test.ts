import { describe, expect, it } from 'vitest';
import { CreateCredentialsRequest, RevokeCredentialsRequest, UpdateCredentialsRequest } from '#contract/schemas';
import { isObject, type JsonObject } from '../../helpers/json.ts';
import { requestExamples, requestSchemaErrors, resolvePointer } from '../../helpers/openapi.ts';

/**
 * Every string field of a request that `openapi/webhook.yaml` gives a `maxLength`, found by
 * walking the document along its own examples, is tried at and around its limit, with
 * whitespace around it: zod must accept exactly what the document accepts. A limit that zod
 * checks on something else than the value as sent (a trimmed copy) shows up here.
 */

const routes = [
  { path: '/v1/createCredentials', schema: CreateCredentialsRequest },
  { path: '/v1/updateCredentials', schema: UpdateCredentialsRequest },
  { path: '/v1/revokeCredentials', schema: RevokeCredentialsRequest },
] as const;

type Path = (string | number)[];
interface LimitedField {
  path: Path;
  maxLength: number;
  format?: string;
  example: string;
}

/** A schema with its `$ref`s followed, and the properties of its `allOf` parts merged in. */
const resolved = (schema: unknown): JsonObject => {
  let node = schema;
  while (isObject(node) && typeof node.$ref === 'string') node = resolvePointer(node.$ref);
  if (!isObject(node)) return {};
  const parts = Array.isArray(node.allOf) ? node.allOf.map(resolved) : [];
  const properties = Object.assign({}, ...parts.map((part) => (isObject(part.properties) ? part.properties : {})), node.properties);
  return { ...node, properties };
};

/** The string fields with a `maxLength` that `value` holds, where the schema describes them. */
const limitedFields = (schema: unknown, value: unknown, path: Path = []): LimitedField[] => {
  const node = resolved(schema);
  if (typeof value === 'string' && typeof node.maxLength === 'number') {
    return [{ path, maxLength: node.maxLength, example: value, ...(typeof node.format === 'string' ? { format: node.format } : {}) }];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => limitedFields(node.items, item, [...path, index]));
  if (!isObject(value) || !isObject(node.properties)) return [];
  const properties = node.properties;
  return Object.entries(value).flatMap(([name, field]) => (name in properties ? limitedFields(properties[name], field, [...path, name]) : []));
};

const requestSchema = (path: string) => {
  const operation = resolved((resolvePointer('#/paths') as JsonObject)[path]).post;
  const body = resolved(isObject(operation) ? operation.requestBody : undefined);
  const media = isObject(body.content) ? body.content['application/json'] : undefined;
  return isObject(media) ? media.schema : undefined;
};

/** A value of exactly `length` characters that the field would take but for its length. */
const filler = (field: LimitedField, length: number) => {
  if (field.format === 'email') return `${'a'.repeat(length - '@example.com'.length)}@example.com`;
  return (field.example.charAt(0) || 'a').repeat(length);
};

const withValue = (body: unknown, path: Path, value: string) => {
  const copy = structuredClone(body) as JsonObject;
  let node: Record<string | number, unknown> = copy;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  node[path.at(-1) as string | number] = value;
  return copy;
};

const cases = routes.flatMap(({ path, schema }) =>
  requestExamples(path).flatMap((example) =>
    limitedFields(requestSchema(path), example.value).flatMap((field) => {
      const max = field.maxLength;
      const values = [
        ['at the limit', filler(field, max)],
        ['one over the limit', filler(field, max + 1)],
        ['at the limit after a leading space', ` ${filler(field, max)}`],
        ['at the limit before a trailing space', `${filler(field, max)} `],
        ['at the limit after a tab', `\t${filler(field, max)}`],
        ['one under the limit after a leading space', ` ${filler(field, max - 1)}`],
        ['one under the limit before a trailing newline', `${filler(field, max - 1)}\n`],
      ] as const;
      return values.map(([how, value]) => ({
        route: path,
        schema,
        example: example.name,
        field: field.path.join('.'),
        how,
        body: withValue(example.value, field.path, value),
      }));
    }),
  ),
);

describe('string length limits: zod and openapi/webhook.yaml', () => {
  it('finds the limited fields of every request route in the documented examples', () => {
    // Act
    const fields = new Set(cases.map(({ route, field }) => `${route} ${field.replace(/\.\d+/g, '[]')}`));

    // Assess
    expect([...fields]).toEqual(
      expect.arrayContaining([
        '/v1/createCredentials appName',
        '/v1/createCredentials appSlug',
        '/v1/createCredentials developer',
        '/v1/createCredentials apis[].id',
        '/v1/createCredentials apis[].usagePlans[].id',
        '/v1/updateCredentials apiKeyId',
        '/v1/revokeCredentials clientId',
        '/v1/revokeCredentials appName',
      ]),
    );
  });

  it.each(cases)('agree on $route $field $how (example $example)', ({ route, schema, body }) => {
    // Act
    const zodAccepts = schema.safeParse(structuredClone(body)).success;
    const documentAccepts = requestSchemaErrors(route, structuredClone(body)).length === 0;

    // Assess
    expect(zodAccepts).toBe(documentAccepts);
  });
});
