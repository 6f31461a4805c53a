import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import {
  ambiguousCredentials,
  awsFailure,
  badRequest,
  conflict,
  internalError,
  misconfigured,
  notFound,
  payloadTooLarge,
  throttled,
  unauthorized,
  unavailable,
  unprocessable,
  unsupportedMediaType,
  type WebhookError,
} from '#contract/errors';
import {
  CreateCredentialsRequest,
  CreateCredentialsResponse,
  ErrorBody,
  RevokeCredentialsRequest,
  UpdateCredentialsRequest,
} from '#contract/schemas';
import {
  expectResponseMatchesOpenApi,
  httpMethods,
  openApiDocument,
  requestExamples,
  requestSchemaErrors,
  resolvePointer,
  responseExamples,
  schemaErrors,
  validatorAt,
} from '../../helpers/openapi.ts';
import { isObject, type JsonObject } from '../../helpers/json.ts';

type Json = JsonObject;
const asObject = (value: unknown): Json => (isObject(value) ? value : {});

/** The routes Sensedia's documentation names, each with its method. */
const contractRoutes = [
  { method: 'post', path: '/v1/createCredentials' },
  { method: 'post', path: '/v1/updateCredentials' },
  { method: 'post', path: '/v1/revokeCredentials' },
  { method: 'get', path: '/v1/health' },
] as const;

const requestSchemas = [
  { path: '/v1/createCredentials', name: 'CreateCredentialsRequest', schema: CreateCredentialsRequest },
  { path: '/v1/updateCredentials', name: 'UpdateCredentialsRequest', schema: UpdateCredentialsRequest },
  { path: '/v1/revokeCredentials', name: 'RevokeCredentialsRequest', schema: RevokeCredentialsRequest },
] as const;

/** Every operation in the document, with its responses. */
const operations = Object.entries(asObject(openApiDocument.paths)).flatMap(([path, item]) =>
  httpMethods.filter((method) => method in asObject(item)).map((method) => ({ path, method, operation: asObject(asObject(item)[method]) })),
);

const documentedStatuses = operations.flatMap(({ path, method, operation }) =>
  Object.keys(asObject(operation.responses)).map((status) => ({ path, method, status: Number(status) })),
);

const errorExamples = documentedStatuses
  .filter(({ status }) => status >= 400)
  .flatMap(({ path, method, status }) => responseExamples(path, method, status).map((example) => ({ path, method, status, ...example })));

const successExamples = documentedStatuses
  .filter(({ status }) => status === 200)
  .flatMap(({ path, method, status }) => responseExamples(path, method, status).map((example) => ({ path, method, status, ...example })));

const allRequestExamples = requestSchemas.flatMap(({ path, name, schema }) =>
  requestExamples(path).map((example) => ({ path, schemaName: name, schema, ...example })),
);

/** Every `$ref` string anywhere in the document, with where it was found. */
const collectRefs = (node: unknown, at: string, found: { at: string; ref: string }[] = []) => {
  if (Array.isArray(node)) for (const [index, item] of node.entries()) collectRefs(item, `${at}/${index}`, found);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push({ at, ref: value });
      else collectRefs(value, `${at}/${key}`, found);
    }
  }
  return found;
};

/** The target of a schema that may be a `$ref` (with annotation siblings). */
const derefSchema = (schema: unknown): unknown => {
  let current = schema;
  while (isObject(current) && typeof current.$ref === 'string') current = resolvePointer(current.$ref);
  return current;
};

/**
 * Compares a schema of the document with zod's own JSON Schema rendering, on
 * everything zod can express: types, fields, required fields, enums, limits,
 * patterns, formats and whether unknown fields pass. Refinements zod cannot
 * render (superRefine, trim) are checked by the examples and negative cases.
 */
const compareWithZod = (documented: unknown, fromZod: unknown, at: string, problems: string[]): string[] => {
  const doc = derefSchema(documented);
  const zod = fromZod;
  if (doc === true || (isObject(doc) && Object.keys(doc).length === 0)) {
    if (!(zod === true || (isObject(zod) && Object.keys(zod).length === 0))) problems.push(`${at}: the document accepts anything, zod does not`);
    return problems;
  }
  if (!isObject(doc) || !isObject(zod)) {
    problems.push(`${at}: cannot compare ${JSON.stringify(doc)} with ${JSON.stringify(zod)}`);
    return problems;
  }
  const same = (keyword: string, normalise: (value: unknown) => unknown = (value) => value) => {
    const left = normalise(doc[keyword]);
    const right = normalise(zod[keyword]);
    if (JSON.stringify(left) !== JSON.stringify(right))
      problems.push(`${at}: ${keyword} is ${JSON.stringify(left)} in the document, ${JSON.stringify(right)} in zod`);
  };
  const sorted = (value: unknown) => (Array.isArray(value) ? [...value].sort() : value);
  for (const keyword of ['type', 'enum', 'const', 'minItems', 'maxItems', 'maxLength', 'format', 'default']) same(keyword);
  same('required', sorted);
  // zod renders a trimmed non-empty string as minLength 1; the document adds the pattern "\S" to say "not only whitespace".
  same('minLength');
  if (zod.pattern !== undefined || doc.pattern !== '\\S') same('pattern');
  // `additionalProperties: {}` in zod and `true` in the document both let unknown fields through.
  same('additionalProperties', (value) => (isObject(value) && Object.keys(value).length === 0 ? true : value));

  if (isObject(doc.properties) || isObject(zod.properties)) {
    same('properties', (value) => Object.keys(asObject(value)).sort());
    for (const [name, schema] of Object.entries(asObject(doc.properties))) {
      if (name in asObject(zod.properties)) compareWithZod(schema, asObject(zod.properties)[name], `${at}.${name}`, problems);
    }
  }
  if (doc.items !== undefined || zod.items !== undefined) compareWithZod(doc.items, zod.items, `${at}[]`, problems);
  if (Array.isArray(doc.oneOf) || Array.isArray(zod.oneOf)) {
    const docBranches = Array.isArray(doc.oneOf) ? doc.oneOf : [];
    const zodBranches = Array.isArray(zod.oneOf) ? zod.oneOf : [];
    if (docBranches.length !== zodBranches.length)
      problems.push(`${at}: ${docBranches.length} oneOf branches in the document, ${zodBranches.length} in zod`);
    for (const [index, branch] of docBranches.entries()) compareWithZod(branch, zodBranches[index], `${at}|${index}`, problems);
  }
  return problems;
};

const componentSchema = (name: string) => resolvePointer(`#/components/schemas/${name}`);

const sensedia = {
  appName: 'my new aws app',
  appSlug: '590d83b5c05f',
  developer: 'email@mycompany.com',
  apis: [{ id: '5aba4csvd4', usagePlans: [{ id: '1el57v' }] }],
};
const update = { ...sensedia, credentialType: 'API_KEY', apiKeyId: 'k3y1d9x2ab' };

describe('openapi/webhook.yaml and the zod contract', () => {
  describe('documented request examples', () => {
    it('documents at least one request example for every route that takes a body', () => {
      // Prepare
      const paths = requestSchemas.map(({ path }) => path);

      // Act
      const counts = paths.map((path) => requestExamples(path).length);

      // Assess
      expect(counts.every((count) => count > 0)).toBe(true);
    });

    it("includes Sensedia's example body verbatim, and the same body without appSlug", () => {
      // Prepare
      const { appSlug: _omitted, ...withoutSlug } = sensedia;

      // Act
      const values = requestExamples('/v1/createCredentials').map(({ value }) => value);

      // Assess
      expect(values).toContainEqual(sensedia);
      expect(values).toContainEqual(withoutSlug);
    });

    it.each(allRequestExamples)('accepts $path example $name with zod $schemaName', ({ schema, value }) => {
      // Prepare
      const body = structuredClone(value);

      // Act
      const result = schema.safeParse(body);

      // Assess
      expect(result.error?.issues ?? []).toEqual([]);
    });

    it.each(allRequestExamples)('accepts $path example $name with the documented request schema', ({ path, value }) => {
      // Prepare
      const body = structuredClone(value);

      // Act
      const errors = requestSchemaErrors(path, body);

      // Assess
      expect(errors).toEqual([]);
    });
  });

  describe('documented response examples', () => {
    it('documents both credential types among the 200 examples, client credentials with how to fetch a token', () => {
      // Prepare
      const values = successExamples.map(({ value }) => asObject(value));

      // Act
      const clientCredentials = values.find((value) => value.credentialType === 'CLIENT_CREDENTIALS');

      // Assess
      expect(values.some((value) => value.credentialType === 'API_KEY')).toBe(true);
      expect(asObject(clientCredentials?.customCredentials)).toMatchObject({
        tokenUrl: expect.stringMatching(/^https:\/\/.+\/oauth2\/token$/),
        scopes: expect.any(Array),
        grantType: 'client_credentials',
        tokenEndpointAuthMethods: ['client_secret_basic', 'client_secret_post'],
      });
    });

    it.each(successExamples)(
      'accepts $method $path 200 example $name with zod CreateCredentialsResponse and the document',
      ({ method, path, status, value }) => {
        // Prepare
        const response = { statusCode: status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) };

        // Act
        const result = CreateCredentialsResponse.safeParse(value);

        // Assess
        expect(result.error?.issues ?? []).toEqual([]);
        expect(() => expectResponseMatchesOpenApi(method, path, response)).not.toThrow();
      },
    );

    it.each(errorExamples)('accepts $method $path $status example $name with zod ErrorBody and the document', ({ method, path, status, value }) => {
      // Prepare
      const response = {
        statusCode: status,
        headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Basic realm="webhook"', 'Retry-After': '5' },
        body: JSON.stringify(value),
      };

      // Act
      const result = ErrorBody.safeParse(value);

      // Assess
      expect(result.error?.issues ?? []).toEqual([]);
      expect(() => expectResponseMatchesOpenApi(method, path, response)).not.toThrow();
    });

    it('uses every error code the brief names somewhere among the examples', () => {
      // Prepare
      const codes = [
        'VALIDATION_FAILED',
        'MALFORMED_JSON',
        'UNAUTHORIZED',
        'CREDENTIAL_NOT_FOUND',
        'CREATE_IN_PROGRESS',
        'PAYLOAD_TOO_LARGE',
        'UNSUPPORTED_MEDIA_TYPE',
        'UNKNOWN_USAGE_PLAN',
        'MIXED_CREDENTIAL_TYPES',
        'AWS_THROTTLED',
        'AWS_FAILURE',
        'INTERNAL_ERROR',
        'QUOTA_EXCEEDED',
      ];

      // Act
      const documented = new Set(errorExamples.map(({ value }) => asObject(value).code));

      // Assess
      expect(codes.filter((code) => !documented.has(code))).toEqual([]);
    });
  });

  describe('the errors lambda/contract/errors.ts builds', () => {
    const everyRoute = contractRoutes.map(({ method, path }) => ({ method, path }));
    const postRoutes = everyRoute.filter(({ method }) => method === 'post');
    const cases: { name: string; error: WebhookError; routes: { method: string; path: string }[] }[] = [
      {
        name: 'badRequest',
        error: badRequest('VALIDATION_FAILED', 'The request body does not match the contract.', [
          { path: 'apis', problem: 'must name at least one API' },
        ]),
        routes: postRoutes,
      },
      {
        name: 'ambiguousCredentials',
        error: ambiguousCredentials(
          'Basic realm="portal-credentials-webhook", charset="UTF-8", Bearer realm="portal-credentials-webhook", error="invalid_request"',
        ),
        routes: everyRoute,
      },
      {
        name: 'unauthorized',
        error: unauthorized('Basic realm="portal-credentials-webhook", charset="UTF-8"', 'Valid HTTP Basic credentials are required.'),
        routes: everyRoute,
      },
      { name: 'notFound', error: notFound('No credential matches.'), routes: everyRoute.filter(({ path }) => path === '/v1/updateCredentials') },
      { name: 'conflict', error: conflict('CREATE_IN_PROGRESS', 'Another request for this app is in progress.'), routes: postRoutes },
      { name: 'payloadTooLarge', error: payloadTooLarge(65_536), routes: postRoutes },
      { name: 'unsupportedMediaType', error: unsupportedMediaType(), routes: postRoutes },
      { name: 'unprocessable', error: unprocessable('UNKNOWN_USAGE_PLAN', 'Usage plan 1el57v does not exist.'), routes: postRoutes },
      { name: 'throttled', error: throttled(new Error('TooManyRequestsException')), routes: postRoutes },
      { name: 'awsFailure', error: awsFailure('creating the API key', new Error('boom')), routes: postRoutes },
      { name: 'unavailable', error: unavailable('QUOTA_EXCEEDED', 'The user pool has reached its limit of app clients.'), routes: everyRoute },
      { name: 'internalError', error: internalError(), routes: everyRoute },
      { name: 'misconfigured', error: misconfigured('CREDENTIAL_POLICY scopes', new Error('ScopeDoesNotExistException')), routes: postRoutes },
    ];
    const routeCases = cases.flatMap(({ name, error, routes }) => routes.map((route) => ({ name, error, ...route })));

    it.each(routeCases)('documents $name ($error.statusCode) on $method $path, with its headers and body', ({ error, method, path }) => {
      // Prepare
      const response = {
        statusCode: error.statusCode,
        headers: { 'Content-Type': 'application/json', ...error.headers },
        body: JSON.stringify(error.toBody()),
      };

      // Act
      const check = () => expectResponseMatchesOpenApi(method, path, response);

      // Assess
      expect(check).not.toThrow();
    });

    it.each(cases)('shows the code $name builds ($error.code) among the examples of its status', ({ error, routes }) => {
      // Prepare
      const [route] = routes;

      // Act
      const codes = route ? responseExamples(route.path, route.method, error.statusCode).map(({ value }) => asObject(value).code) : [];

      // Assess
      expect(codes).toContain(error.code);
    });

    it('documents the 64 KB body limit in the 413 example exactly as payloadTooLarge words it', () => {
      // Prepare
      const built = payloadTooLarge(64 * 1024).toBody();

      // Act
      const documented = responseExamples('/v1/createCredentials', 'post', 413).map(({ value }) => value);

      // Assess
      expect(documented).toContainEqual(built);
    });
  });

  describe('shapes', () => {
    it.each([
      { component: 'CreateCredentialsRequest', schema: CreateCredentialsRequest, io: 'input' },
      { component: 'UpdateCredentialsRequest', schema: UpdateCredentialsRequest, io: 'input' },
      { component: 'RevokeCredentialsRequest', schema: RevokeCredentialsRequest, io: 'input' },
      { component: 'CreateCredentialsResponse', schema: CreateCredentialsResponse, io: 'output' },
      { component: 'ErrorBody', schema: ErrorBody, io: 'output' },
    ] as const)('gives $component the fields, limits and patterns of the zod schema', ({ component, schema, io }) => {
      // Prepare
      const fromZod = z.toJSONSchema(schema, { io, unrepresentable: 'any' });

      // Act
      const problems = compareWithZod(componentSchema(component), fromZod, component, []);

      // Assess
      expect(problems).toEqual([]);
    });

    it.each(requestSchemas)('documents $name as the request body of $path', ({ path, name }) => {
      // Prepare
      const operation = asObject(asObject(asObject(openApiDocument.paths)[path]).post);

      // Act
      const schema = asObject(asObject(asObject(asObject(operation.requestBody).content)['application/json']).schema);

      // Assess
      expect(schema.$ref).toBe(`#/components/schemas/${name}`);
      expect(asObject(operation.requestBody).required).toBe(true);
    });

    it('discriminates CreateCredentialsResponse on credentialType, one branch per credential type', () => {
      // Prepare
      const response = asObject(componentSchema('CreateCredentialsResponse'));

      // Act
      const mapping = asObject(asObject(response.discriminator).mapping);
      const branchTypes = Object.values(mapping).map(
        (ref) => asObject(asObject(asObject(resolvePointer(String(ref))).properties).credentialType).const,
      );

      // Assess
      expect(asObject(response.discriminator).propertyName).toBe('credentialType');
      expect(Object.keys(mapping).sort()).toEqual(['API_KEY', 'CLIENT_CREDENTIALS']);
      expect(branchTypes).toEqual(Object.keys(mapping));
    });
  });

  describe('the document is sound', () => {
    it('is an OpenAPI 3.1 document with a title and a version', () => {
      // Prepare
      const info = asObject(openApiDocument.info);

      // Act
      const version = String(openApiDocument.openapi);

      // Assess
      expect(version).toMatch(/^3\.1\.\d+$/);
      expect(info.title).toEqual(expect.any(String));
      expect(info.version).toEqual(expect.any(String));
    });

    it('resolves every $ref', () => {
      // Prepare
      const refs = collectRefs(openApiDocument, '#');

      // Act
      const dangling = refs.filter(({ ref }) => resolvePointer(ref) === undefined);

      // Assess
      expect(refs.length).toBeGreaterThan(0);
      expect(dangling).toEqual([]);
    });

    it('makes every component schema a valid JSON Schema 2020-12 that compiles without unknown keywords', () => {
      // Prepare
      const names = Object.keys(asObject(asObject(openApiDocument.components).schemas));
      const metaValidator = new Ajv2020({ strict: false });

      // Act
      const invalid = names.filter((name) => metaValidator.validateSchema(componentSchema(name) as object) !== true);
      const uncompilable = names.filter((name) => {
        try {
          validatorAt(`#/components/schemas/${name}`);
          return false;
        } catch {
          return true;
        }
      });

      // Assess
      expect(names.length).toBeGreaterThan(0);
      expect(invalid).toEqual([]);
      expect(uncompilable).toEqual([]);
    });

    it('gives every response a description, as OpenAPI requires', () => {
      // Prepare
      const responses = documentedStatuses.map(({ path, method, status }) => {
        const operation = operations.find((entry) => entry.path === path && entry.method === method)?.operation;
        return { route: `${method} ${path} ${status}`, response: asObject(derefSchema(asObject(operation?.responses)[String(status)])) };
      });

      // Act
      const undescribed = responses.filter(({ response }) => typeof response.description !== 'string' || response.description === '');

      // Assess
      expect(undescribed.map(({ route }) => route)).toEqual([]);
    });

    it('documents exactly the four routes of the contract', () => {
      // Prepare
      const expected = contractRoutes.map(({ method, path }) => `${method} ${path}`).sort();

      // Act
      const documented = operations.map(({ method, path }) => `${method} ${path}`).sort();

      // Assess
      expect(documented).toEqual(expected);
    });

    it('protects every operation with HTTP Basic, either globally or explicitly', () => {
      // Prepare
      const schemes = asObject(asObject(openApiDocument.components).securitySchemes);

      // Act
      const unprotected = operations.filter(({ operation }) => {
        const security = operation.security ?? openApiDocument.security;
        if (!Array.isArray(security)) return true;
        if (security.length === 0) return operation.security === undefined; // only an explicit `security: []` may opt out
        return !security.every((requirement) => Object.keys(asObject(requirement)).every((name) => name in schemes));
      });

      // Assess
      expect(unprotected.map(({ method, path }) => `${method} ${path}`)).toEqual([]);
      expect(Object.values(schemes)).toContainEqual(expect.objectContaining({ type: 'http', scheme: 'basic' }));
    });

    it('gives every operation a unique operationId and a 401 response', () => {
      // Prepare
      const ids = operations.map(({ operation }) => operation.operationId);

      // Act
      const without401 = operations.filter(({ operation }) => !('401' in asObject(operation.responses)));

      // Assess
      expect(new Set(ids).size).toBe(operations.length);
      expect(ids.every((id) => typeof id === 'string')).toBe(true);
      expect(without401).toEqual([]);
    });

    it('answers 204 with no body on update, revoke and health, and 200 with JSON on create', () => {
      // Prepare
      const success = Object.fromEntries(operations.map(({ path, method, operation }) => [`${method} ${path}`, asObject(operation.responses)]));

      // Act
      const bodies = Object.fromEntries(
        Object.entries(success).map(([route, responses]) => [route, Object.keys(responses).filter((status) => status.startsWith('2'))]),
      );

      // Assess
      expect(bodies).toEqual({
        'post /v1/createCredentials': ['200'],
        'post /v1/updateCredentials': ['204'],
        'post /v1/revokeCredentials': ['204'],
        'get /v1/health': ['204'],
      });
      for (const route of ['post /v1/updateCredentials', 'post /v1/revokeCredentials', 'get /v1/health']) {
        expect(asObject(success[route]?.['204']).content).toBeUndefined();
      }
    });

    it('gives every 4xx and 5xx response an ErrorBody and at least one example', () => {
      // Prepare
      const failures = documentedStatuses.filter(({ status }) => status >= 400);

      // Act
      const wrong = failures.filter(({ path, method, status }) => {
        const operation = operations.find((entry) => entry.path === path && entry.method === method)?.operation;
        const response = asObject(derefSchema(asObject(operation?.responses)[String(status)]));
        const schema = asObject(asObject(asObject(response.content)['application/json']).schema);
        return schema.$ref !== '#/components/schemas/ErrorBody' || responseExamples(path, method, status).length === 0;
      });

      // Assess
      expect(failures.length).toBeGreaterThan(0);
      expect(wrong).toEqual([]);
    });

    it('requires WWW-Authenticate on every 401 and Retry-After on every 429', () => {
      // Prepare
      const headersOf = (status: number) =>
        operations
          .map(({ operation }) => asObject(derefSchema(asObject(operation.responses)[String(status)])))
          .filter((response) => Object.keys(response).length > 0)
          .map((response) =>
            Object.fromEntries(Object.entries(asObject(response.headers)).map(([name, header]) => [name, asObject(derefSchema(header)).required])),
          );

      // Act
      const on401 = headersOf(401);
      const on429 = headersOf(429);

      // Assess
      expect(on401.length).toBe(4);
      expect(on401.every((headers) => headers['WWW-Authenticate'] === true)).toBe(true);
      expect(on429.length).toBeGreaterThan(0);
      expect(on429.every((headers) => headers['Retry-After'] === true)).toBe(true);
    });

    it('states the decisions the portal cannot see in info.description', () => {
      // Prepare
      const description = String(asObject(openApiDocument.info).description).replace(/\s+/g, ' ');

      // Act
      const missing = [
        /forward compatible/i,
        /idempotent create/i,
        /idempotent revoke/i,
        /ownership/i,
        /SHA-256 of the lower-cased developer and app name/i,
        /64 KB/,
      ].filter((pattern) => !pattern.test(description));

      // Assess
      expect(missing).toEqual([]);
    });
  });

  describe('both descriptions refuse the same requests', () => {
    const rejected: { path: string; why: string; body: unknown }[] = [
      { path: '/v1/createCredentials', why: 'an empty apis list', body: { ...sensedia, apis: [] } },
      { path: '/v1/createCredentials', why: 'a developer that is not an e-mail address', body: { ...sensedia, developer: 'not-an-email' } },
      { path: '/v1/createCredentials', why: 'an empty appName', body: { ...sensedia, appName: '' } },
      { path: '/v1/createCredentials', why: 'an appName of only whitespace', body: { ...sensedia, appName: '  \t ' } },
      { path: '/v1/createCredentials', why: 'an appName longer than 256 characters', body: { ...sensedia, appName: 'a'.repeat(257) } },
      { path: '/v1/createCredentials', why: 'an appName that is not a string', body: { ...sensedia, appName: 42 } },
      { path: '/v1/createCredentials', why: 'a missing developer', body: { appName: sensedia.appName, apis: sensedia.apis } },
      { path: '/v1/createCredentials', why: 'a missing apis list', body: { appName: sensedia.appName, developer: sensedia.developer } },
      { path: '/v1/createCredentials', why: 'an API id with a space in it', body: { ...sensedia, apis: [{ id: '5aba 4csvd4' }] } },
      { path: '/v1/createCredentials', why: 'an API without an id', body: { ...sensedia, apis: [{ usagePlans: [] }] } },
      {
        path: '/v1/createCredentials',
        why: 'eleven usage plans for one API',
        body: { ...sensedia, apis: [{ id: 'api1', usagePlans: Array.from({ length: 11 }, (_, i) => ({ id: `plan${i}` })) }] },
      },
      {
        path: '/v1/createCredentials',
        why: 'fifty-one APIs',
        body: { ...sensedia, apis: Array.from({ length: 51 }, (_, i) => ({ id: `api${i}` })) },
      },
      { path: '/v1/createCredentials', why: 'an appSlug with a slash', body: { ...sensedia, appSlug: 'team/app' } },
      {
        path: '/v1/createCredentials',
        why: 'an appSlug of the form slug-less apps are keyed with',
        body: { ...sensedia, appSlug: 'sha256-0123456789abcdef0123456789abcdef' },
      },
      {
        path: '/v1/updateCredentials',
        why: 'an appSlug of the reserved form in upper case',
        body: { ...update, appSlug: 'SHA256-0123456789ABCDEF0123456789ABCDEF' },
      },
      {
        path: '/v1/revokeCredentials',
        why: 'an appSlug of the reserved form',
        body: { credentialType: 'API_KEY', appSlug: 'sha256-0123456789abcdef0123456789abcdef' },
      },
      {
        path: '/v1/createCredentials',
        why: 'an appName of 256 characters after a leading space',
        body: { ...sensedia, appName: ` ${'a'.repeat(256)}` },
      },
      { path: '/v1/createCredentials', why: 'customCredentials that is a list', body: { ...sensedia, customCredentials: ['x'] } },
      { path: '/v1/createCredentials', why: 'a body that is a list', body: [sensedia] },
      { path: '/v1/updateCredentials', why: 'a clientId with credentialType API_KEY', body: { ...update, clientId: 'abc123' } },
      {
        path: '/v1/updateCredentials',
        why: 'an apiKeyId with credentialType CLIENT_CREDENTIALS',
        body: { ...update, credentialType: 'CLIENT_CREDENTIALS' },
      },
      { path: '/v1/updateCredentials', why: 'no credentialType', body: sensedia },
      { path: '/v1/updateCredentials', why: 'an unknown credentialType', body: { ...update, credentialType: 'OAUTH' } },
      { path: '/v1/updateCredentials', why: 'an empty apis list', body: { ...update, apis: [] } },
      { path: '/v1/revokeCredentials', why: 'nothing that names the credential', body: { credentialType: 'API_KEY' } },
      { path: '/v1/revokeCredentials', why: 'only a clientId for an API key', body: { credentialType: 'API_KEY', clientId: 'abc123' } },
      {
        path: '/v1/revokeCredentials',
        why: 'an apiKeyId for client credentials',
        body: { credentialType: 'CLIENT_CREDENTIALS', apiKeyId: 'k3y1d9x2ab', appSlug: 'app' },
      },
      {
        path: '/v1/revokeCredentials',
        why: 'an appName without its developer',
        body: { credentialType: 'CLIENT_CREDENTIALS', appName: 'my new aws app' },
      },
      { path: '/v1/revokeCredentials', why: 'no credentialType', body: { apiKeyId: 'k3y1d9x2ab' } },
      { path: '/v1/revokeCredentials', why: 'an empty apiKeyId', body: { credentialType: 'API_KEY', apiKeyId: '' } },
    ];
    const accepted: { path: string; why: string; body: unknown }[] = [
      {
        path: '/v1/createCredentials',
        why: 'unknown fields at every level',
        body: { ...sensedia, extra: 1, apis: [{ id: 'a1', note: 'x', usagePlans: [{ id: 'p1', tier: 'gold' }] }] },
      },
      { path: '/v1/createCredentials', why: 'an API without usage plans', body: { ...sensedia, apis: [{ id: 'a1' }] } },
      {
        path: '/v1/createCredentials',
        why: 'appSlugs that only resemble the reserved form',
        body: { ...sensedia, appSlug: 'sha256-0123456789abcdef0123456789abcde' },
      },
      { path: '/v1/createCredentials', why: 'an appSlug of 32 hex digits', body: { ...sensedia, appSlug: '0123456789abcdef0123456789abcdef' } },
      {
        path: '/v1/createCredentials',
        why: 'an appName of 256 characters, spaces around it',
        body: { ...sensedia, appName: ` ${'a'.repeat(254)} ` },
      },
      {
        path: '/v1/createCredentials',
        why: 'ten usage plans for one API',
        body: { ...sensedia, apis: [{ id: 'a1', usagePlans: Array.from({ length: 10 }, (_, i) => ({ id: `plan${i}` })) }] },
      },
      {
        path: '/v1/updateCredentials',
        why: 'no credential id (found by appSlug or app)',
        body: { ...sensedia, credentialType: 'CLIENT_CREDENTIALS' },
      },
      {
        path: '/v1/revokeCredentials',
        why: 'an app named by appName and developer',
        body: { credentialType: 'API_KEY', appName: 'my new aws app', developer: 'email@mycompany.com' },
      },
      {
        path: '/v1/revokeCredentials',
        why: 'an apis list of anything, which revoke does not read',
        body: { credentialType: 'API_KEY', apiKeyId: 'k1', apis: ['x', 1] },
      },
    ];
    const zodFor = (path: string) => requestSchemas.find((entry) => entry.path === path)?.schema;

    it.each(rejected)('refuses $why on $path in zod and in the document', ({ path, body }) => {
      // Prepare
      const schema = zodFor(path);

      // Act
      const zodResult = schema?.safeParse(structuredClone(body));
      const documentErrors = requestSchemaErrors(path, structuredClone(body));

      // Assess
      expect(zodResult?.success).toBe(false);
      expect(documentErrors).not.toEqual([]);
    });

    it.each(accepted)('accepts $why on $path in zod and in the document', ({ path, body }) => {
      // Prepare
      const schema = zodFor(path);

      // Act
      const zodResult = schema?.safeParse(structuredClone(body));
      const documentErrors = requestSchemaErrors(path, structuredClone(body));

      // Assess
      expect(zodResult?.error?.issues ?? []).toEqual([]);
      expect(documentErrors).toEqual([]);
    });

    it('leaves duplicate API ids to zod and says so in the document, since JSON Schema cannot compare fields across items', () => {
      // Prepare
      const body = { ...sensedia, apis: [{ id: 'a1' }, { id: 'a1' }] };

      // Act
      const zodResult = CreateCredentialsRequest.safeParse(body);
      const apiList = asObject(componentSchema('ApiList'));

      // Assess
      expect(zodResult.success).toBe(false);
      expect(String(apiList.description)).toMatch(/listed twice/);
    });
  });

  describe('expectResponseMatchesOpenApi', () => {
    const apiKeyBody = { credentialType: 'API_KEY', apiKeyId: 'k1', apiKey: 'secret-value' };

    it('passes a documented status whose body matches the schema', () => {
      // Prepare
      const response = { statusCode: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(apiKeyBody) };

      // Act
      const check = () => expectResponseMatchesOpenApi('POST', '/v1/createCredentials', response);

      // Assess
      expect(check).not.toThrow();
    });

    it('throws for a status the operation does not document', () => {
      // Prepare
      const response = { statusCode: 404, body: JSON.stringify({ code: 'CREDENTIAL_NOT_FOUND', message: 'Not here.' }) };

      // Act
      const check = () => expectResponseMatchesOpenApi('POST', '/v1/createCredentials', response);

      // Assess
      expect(check).toThrow(/status 404 is not documented/);
    });

    it('throws, listing what is wrong, for a body that violates the schema', () => {
      // Prepare
      const { apiKey: _missing, ...withoutKey } = apiKeyBody;
      const response = { statusCode: 200, body: JSON.stringify(withoutKey) };

      // Act
      const check = () => expectResponseMatchesOpenApi('POST', '/v1/createCredentials', response);

      // Assess
      expect(check).toThrow(/does not match the document[\s\S]*apiKey/);
    });

    it('throws for an error body that carries a field the document does not allow', () => {
      // Prepare
      const response = { statusCode: 500, body: JSON.stringify({ code: 'INTERNAL_ERROR', message: 'Failed.', stack: 'Error: at x' }) };

      // Act
      const check = () => expectResponseMatchesOpenApi('POST', '/v1/revokeCredentials', response);

      // Assess
      expect(check).toThrow(/must NOT have additional properties/);
    });

    it('throws for a body that is not JSON where JSON is documented', () => {
      // Prepare
      const response = { statusCode: 400, body: 'Bad Request' };

      // Act
      const check = () => expectResponseMatchesOpenApi('POST', '/v1/createCredentials', response);

      // Assess
      expect(check).toThrow(/promises a JSON body/);
    });

    it('throws for a 204 that has a body', () => {
      // Prepare
      const response = { statusCode: 204, body: '{}' };

      // Act
      const check = () => expectResponseMatchesOpenApi('POST', '/v1/revokeCredentials', response);

      // Assess
      expect(check).toThrow(/promises an empty body/);
    });

    it('passes a 204 without a body', () => {
      // Prepare
      const response = { statusCode: 204, headers: {} };

      // Act
      const check = () => expectResponseMatchesOpenApi('GET', '/v1/health', response);

      // Assess
      expect(check).not.toThrow();
    });

    it('throws for a 401 without WWW-Authenticate', () => {
      // Prepare
      const response = {
        statusCode: 401,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(unauthorized('Basic realm="x"', 'Valid HTTP Basic credentials are required.').toBody()),
      };

      // Act
      const check = () => expectResponseMatchesOpenApi('GET', '/v1/health', response);

      // Assess
      expect(check).toThrow(/WWW-Authenticate is missing/);
    });

    it('throws for a Content-Type the response does not document', () => {
      // Prepare
      const response = { statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(apiKeyBody) };

      // Act
      const check = () => expectResponseMatchesOpenApi('POST', '/v1/createCredentials', response);

      // Assess
      expect(check).toThrow(/Content-Type text\/plain is not documented/);
    });

    it('throws for a route the document does not have', () => {
      // Prepare
      const response = { statusCode: 204 };

      // Act
      const check = () => expectResponseMatchesOpenApi('DELETE', '/v1/health', response);

      // Assess
      expect(check).toThrow(/no operation DELETE \/v1\/health/);
    });

    it('validates schemas by pointer for callers that need a single component', () => {
      // Prepare
      const pointer = '#/components/schemas/ErrorBody';

      // Act
      const errors = schemaErrors(pointer, { code: 'lower_case', message: 'x' });

      // Assess
      expect(errors.join('\n')).toMatch(/\/code must match pattern/);
    });
  });
});
