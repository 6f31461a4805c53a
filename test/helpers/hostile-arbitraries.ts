import fc from 'fast-check';
import { headerMaps } from '../../local/header-maps.ts';
import { isObject, type JsonObject } from './json.ts';
import { validatorAt } from './openapi.ts';
import { basic, portalUser, rotatedUser } from './portal.ts';

/**
 * fast-check arbitraries for requests a hostile or broken client could send the
 * webhook, each with the refusal the contract (`openapi/webhook.yaml`) promises,
 * and for valid requests padded with fields the contract does not know.
 *
 * Every value is built from the contract's own rules, never from the code under
 * test: a generator that makes an accidentally valid body would show up as a
 * failing property, not be hidden by the code it checks.
 */

export type BodyRoute = 'createCredentials' | 'updateCredentials' | 'revokeCredentials';
export type Route = BodyRoute | 'health';
export const bodyRoutes: readonly BodyRoute[] = ['createCredentials', 'updateCredentials', 'revokeCredentials'];

/** The contract's body limit: "larger than 64 KB (65,536 bytes) is refused with 413". */
export const bodyLimitBytes = 65_536;

/** The answer a hostile request must get: one status, and one of a few error codes. */
export interface Refusal {
  status: 400 | 401 | 413 | 415;
  codes: readonly string[];
}

const malformed: Refusal = { status: 400, codes: ['MALFORMED_JSON'] };
const invalid: Refusal = { status: 400, codes: ['VALIDATION_FAILED'] };
const notJsonOrInvalid: Refusal = { status: 400, codes: ['MALFORMED_JSON', 'VALIDATION_FAILED'] };
const tooLarge: Refusal = { status: 413, codes: ['PAYLOAD_TOO_LARGE'] };
export const unauthorizedRefusal: Refusal = { status: 401, codes: ['UNAUTHORIZED'] };
export const unsupportedMediaTypeRefusal: Refusal = { status: 415, codes: ['UNSUPPORTED_MEDIA_TYPE'] };

/** A request body as API Gateway hands it over, and what it must be answered with. */
export interface BodyCase {
  kind: string;
  body: string | null;
  isBase64Encoded: boolean;
  expected: Refusal;
}

/** Request headers as API Gateway builds them (`headers` keeps the last value, `multiValueHeaders` all). */
export interface HeaderSet {
  kind: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  /** Authorization values sent, so a test can check none is echoed. */
  presented: string[];
}

// ---------------------------------------------------------------------------
// Small building blocks
// ---------------------------------------------------------------------------

/** Adds an own, enumerable property even for "__proto__", which plain assignment would treat as the prototype. */
const defineOwn = (target: object, key: string, value: unknown) => {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
};

const assignOwn = (target: object, source: object) => {
  for (const key of Object.keys(source)) defineOwn(target, key, (source as JsonObject)[key]);
};

/** A deep copy made through JSON, so own "__proto__" keys survive and nothing is shared between runs. */
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/** 413 when the text is over the contract's limit, else the refusal the body itself deserves. */
const sized = (text: string, otherwise: Refusal): Refusal => (byteLength(text) > bodyLimitBytes ? tooLarge : otherwise);

/** Every character JavaScript's `trim` removes: what "only whitespace" means for the app name. */
const whitespace = [
  ' ',
  '\t',
  '\n',
  '\r',
  '\v',
  '\f',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2003',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
];

/** Characters no identifier may contain: separators, path parts, control and invisible characters, non-ASCII letters. */
const badIdCharacters = [
  ' ',
  '/',
  '\\',
  '.',
  ':',
  '\t',
  '\n',
  '\r',
  '\0',
  '\u0001',
  '\u001b',
  '\u007f',
  '\u0085',
  'é',
  'ß',
  'Ω',
  'д',
  '😀',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\ud800',
  '１',
  '%',
  '?',
  '#',
  '&',
  '=',
  '+',
  '"',
  "'",
  '<',
  '>',
  '{',
  '}',
  '*',
  '$',
  '@',
  ',',
  ';',
  '|',
  '~',
  '`',
  '!',
  '(',
  ')',
  '[',
  ']',
];
const badSlugCharacters = badIdCharacters.filter((character) => character !== '.');

/** The contract's own schemas of an identifier and a slug (pattern and lengths), from `openapi/webhook.yaml`. */
const isAwsId = validatorAt('#/components/schemas/AwsId');
const isSlug = validatorAt('#/components/schemas/AppSlug');

export const awsId = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);
const slug = fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/);
const email = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9]{1,12}$/),
    fc.option(fc.stringMatching(/^[a-z0-9]{1,8}$/), { nil: undefined }),
    fc.stringMatching(/^[a-z0-9]{1,12}$/),
    fc.constantFrom('com', 'org', 'io', 'com.br'),
  )
  .map(([local, more, domain, tld]) => `${local}${more === undefined ? '' : `.${more}`}@${domain}.${tld}`);
const appName = fc.string({ minLength: 1, maxLength: 60 }).filter((name) => name.trim().length > 0);

const blank = fc.oneof(fc.constant(''), fc.string({ unit: fc.constantFrom(...whitespace), minLength: 1, maxLength: 20 }));

/** Strings longer than `min` characters even after trimming, some of them tens of kilobytes. */
const hugeText = (min: number) =>
  fc.oneof(
    fc.integer({ min, max: 30_000 }).map((length) => 'x'.repeat(length)),
    fc.string({ unit: 'grapheme', minLength: min, maxLength: min + 100 }).filter((text) => text.trim().length >= min),
  );

const withBadCharacter = (valid: string, bad: readonly string[]) =>
  fc
    .tuple(
      fc.stringMatching(new RegExp(`^[${valid}]{0,10}$`)),
      fc.array(fc.constantFrom(...bad), { minLength: 1, maxLength: 3 }),
      fc.stringMatching(new RegExp(`^[${valid}]{0,10}$`)),
    )
    .map(([before, inserted, after]) => `${before}${inserted.join('')}${after}`);

/** Strings that are not API Gateway / Cognito identifiers. */
const invalidAwsId = fc.oneof(
  blank,
  withBadCharacter('A-Za-z0-9_-', badIdCharacters),
  fc.stringMatching(/^[A-Za-z0-9_-]{129,400}$/),
  fc.string({ unit: 'binary', maxLength: 30 }).filter((text) => !isAwsId(text)),
  fc.constantFrom(
    '../../etc/passwd',
    '..',
    'a b',
    'a/b',
    '%2e%2e%2f',
    'key123\0',
    ' key123',
    'key123 ',
    'key123\n',
    'ＫＥＹ',
    'arn:aws:apigateway:us-east-1::/apikeys/x',
  ),
);

const invalidSlug = fc.oneof(
  blank,
  withBadCharacter('A-Za-z0-9._-', badSlugCharacters),
  fc.stringMatching(/^[A-Za-z0-9._-]{129,400}$/),
  fc.string({ unit: 'binary', maxLength: 30 }).filter((text) => !isSlug(text)),
);

/** Strings that are not e-mail addresses, or are longer than the contract's 254 characters. */
const invalidEmail = fc.oneof(
  blank,
  fc.string({ maxLength: 40 }).filter((text) => !text.includes('@')),
  fc.constantFrom(
    'user@',
    '@example.com',
    'user@example',
    'user@@example.com',
    'user @example.com',
    'user@exa mple.com',
    '.user@example.com',
    'us..er@example.com',
    'user.@example.com',
    'user@example.c',
    'user@-example.com',
    'üser@example.com',
    'user@exämple.com',
    'user@example.com\n',
    ' user@example.com',
    'user@example.com ',
    'user@example.com<script>',
    'user@[127.0.0.1]',
    '"quoted"@example.com',
    'user@localhost',
    'user@example..com',
    'user@.example.com',
    'mailto:user@example.com',
    'user@example.com,other@example.com',
    'user@example.com.',
    'user@exam_ple.com',
    'user@123.123.123.123',
    'a(b)@example.com',
    'us\0er@example.com',
    'user@example.com/',
    'user%40example.com',
    'user@ex@ample.com',
  ),
  fc
    .tuple(email, fc.constantFrom(' ', ',', '(', '<', ':', ';', '"', '\\', 'é', '\0', '😀', '\u202e'))
    .map(([address, bad]) => address.replace('@', `${bad}@`)),
  fc.integer({ min: 243, max: 400 }).map((length) => `${'a'.repeat(length)}@example.com`),
);

const invalidCredentialType = fc.oneof(
  fc.constantFrom(
    '',
    'api_key',
    'Api_Key',
    'API-KEY',
    'APIKEY',
    'API_KEY ',
    ' API_KEY',
    'API_KEY\0',
    'CLIENT_CREDENTIAL',
    'OAUTH',
    'BOTH',
    'API_KEY,CLIENT_CREDENTIALS',
    '__proto__',
    'constructor',
    'toString',
    'ＡＰＩ_ＫＥＹ',
  ),
  fc.string({ maxLength: 20 }).filter((text) => text !== 'API_KEY' && text !== 'CLIENT_CREDENTIALS'),
);

const shortString = fc.string({ maxLength: 8 });
/** Anything JSON can carry that is not a string. */
const notString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(shortString, { maxLength: 3 }),
  fc.dictionary(shortString, shortString, { maxKeys: 3 }),
);
/** Anything JSON can carry that is not an array. */
const notArray = fc.oneof(
  shortString,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(shortString, shortString, { maxKeys: 3 }),
  fc.constant({ 0: { id: 'abc' }, length: 1 }),
);
/** Anything JSON can carry that is not an object. */
const notObject = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
);

// ---------------------------------------------------------------------------
// Valid bodies
// ---------------------------------------------------------------------------

const planList = fc.uniqueArray(fc.record({ id: awsId }), { minLength: 1, maxLength: 3, selector: (plan) => plan.id });
/** 1–3 APIs with 1–3 plans each: at most 9 usage plans, below API Gateway's 10 per key. */
const apiList = fc.uniqueArray(fc.record({ id: awsId, usagePlans: planList }), { minLength: 1, maxLength: 3, selector: (api) => api.id });

const appFields = fc.record(
  {
    appName,
    appSlug: slug,
    developer: email,
    apis: apiList,
    customCredentials: fc.dictionary(shortString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3, noNullPrototype: true }),
  },
  { requiredKeys: ['appName', 'developer', 'apis'] },
);

type CredentialTypeName = 'API_KEY' | 'CLIENT_CREDENTIALS';
const idField = (type: CredentialTypeName) => (type === 'API_KEY' ? 'apiKeyId' : 'clientId');

/** A body the contract accepts for the route. Update and revoke name API keys only unless told otherwise. */
export const validBody = (route: BodyRoute, types: readonly CredentialTypeName[] = ['API_KEY']): fc.Arbitrary<JsonObject> => {
  const credentialType = fc.constantFrom(...types);
  switch (route) {
    case 'createCredentials':
      return appFields;
    case 'updateCredentials':
      return fc
        .tuple(appFields, credentialType, fc.option(awsId, { nil: undefined }))
        .map(([fields, type, id]) => ({ ...fields, credentialType: type, ...(id === undefined ? {} : { [idField(type)]: id }) }));
    case 'revokeCredentials':
      return fc.oneof(
        fc.tuple(credentialType, awsId).map(([type, id]) => ({ credentialType: type, [idField(type)]: id })),
        fc.tuple(credentialType, slug).map(([type, appSlug]) => ({ credentialType: type, appSlug })),
        fc.tuple(credentialType, appName, email).map(([type, name, developer]) => ({ credentialType: type, appName: name, developer })),
        fc.tuple(appFields, credentialType, awsId).map(([fields, type, id]) => ({ ...fields, credentialType: type, [idField(type)]: id })),
      );
  }
};

const knownFields: Record<BodyRoute, ReadonlySet<string>> = {
  createCredentials: new Set(['appName', 'appSlug', 'developer', 'apis', 'customCredentials']),
  updateCredentials: new Set(['appName', 'appSlug', 'developer', 'apis', 'customCredentials', 'credentialType', 'apiKeyId', 'clientId']),
  revokeCredentials: new Set(['appName', 'appSlug', 'developer', 'apis', 'customCredentials', 'credentialType', 'apiKeyId', 'clientId']),
};

/** Keys the prototype-pollution payloads use; they are unknown fields to the contract. */
export const prototypeKeys = ['__proto__', 'constructor', 'prototype'] as const;

/** Properties a successful pollution would add to every object. */
export const pollutionSentinels = ['polluted', 'isAdmin'] as const;

const pollutionPayload = fc.constantFrom(
  () => ({ polluted: 'yes' }),
  () => ({ prototype: { polluted: 'yes', isAdmin: true } }),
  () => {
    const nested = {};
    defineOwn(nested, '__proto__', { polluted: 'yes' });
    return nested;
  },
  () => ({ isAdmin: true, polluted: 'yes', toString: 'not a function', valueOf: 1, hasOwnProperty: null }),
  () => 'polluted',
  () => [{ polluted: 'yes' }],
);

/** Own `__proto__` / `constructor` / `prototype` keys on one object. */
const pollution = fc.array(fc.tuple(fc.constantFrom(...prototypeKeys), pollutionPayload), { minLength: 1, maxLength: 3 });

const unknownKey = (known: ReadonlySet<string>) => fc.string({ maxLength: 12 }).filter((key) => !known.has(key) && key !== '__proto__');
const unknownFields = (known: ReadonlySet<string>, maxKeys = 4) =>
  fc.dictionary(unknownKey(known), fc.jsonValue({ maxDepth: 2 }), { maxKeys, noNullPrototype: true });

/** Where in a body an object can be: the body itself, an API, a usage plan, the custom credentials. */
const objectsIn = (body: JsonObject): JsonObject[] => {
  const found: JsonObject[] = [body];
  if (isObject(body.customCredentials)) found.push(body.customCredentials);
  if (Array.isArray(body.apis)) {
    for (const api of body.apis) {
      if (!isObject(api)) continue;
      found.push(api);
      if (Array.isArray(api.usagePlans)) found.push(...api.usagePlans.filter(isObject));
    }
  }
  return found;
};

/** Adds prototype-pollution keys at random levels of a body (unknown fields: they never make a body valid or invalid). */
const injectPollution = (body: JsonObject, injections: readonly [string, () => unknown][], levels: readonly number[]) => {
  const targets = objectsIn(body);
  injections.forEach(([key, payload], index) => {
    const target = targets[(levels[index] ?? 0) % targets.length] as JsonObject;
    defineOwn(target, key, payload());
  });
};

/**
 * A valid body with unknown fields at the top level, inside `apis[]` and inside
 * `usagePlans[]`, sometimes with prototype-pollution keys: the contract accepts them all.
 */
export const validBodyWithUnknownFields = (route: BodyRoute) =>
  fc
    .record({
      body: validBody(route),
      top: unknownFields(knownFields[route]),
      inApis: fc.array(unknownFields(new Set(['id', 'usagePlans']), 3), { maxLength: 3 }),
      inPlans: fc.array(unknownFields(new Set(['id']), 3), { maxLength: 9 }),
      pollution: fc.option(fc.tuple(pollution, fc.array(fc.nat(), { maxLength: 3 })), { nil: undefined }),
    })
    .map(({ body, top, inApis, inPlans, pollution: injected }) => {
      const result = clone(body);
      assignOwn(result, top);
      const apis = Array.isArray(result.apis) ? result.apis.filter(isObject) : [];
      for (const [index, api] of apis.entries()) assignOwn(api, inApis[index] ?? {});
      const plans = apis.flatMap((api) => (Array.isArray(api.usagePlans) ? api.usagePlans.filter(isObject) : []));
      for (const [index, plan] of plans.entries()) assignOwn(plan, inPlans[index] ?? {});
      if (injected) injectPollution(result, injected[0], injected[1]);
      return result;
    });

// ---------------------------------------------------------------------------
// Broken bodies: each breaker alone makes a valid body invalid, and none repairs another
// ---------------------------------------------------------------------------

interface Breaker {
  label: string;
  apply: (body: JsonObject) => void;
}

const set = (field: string, label: string, value: fc.Arbitrary<unknown>): fc.Arbitrary<Breaker> =>
  value.map((broken) => ({ label: `${field}: ${label}`, apply: (body) => void (body[field] = clone(broken)) }));

const remove = (field: string): fc.Arbitrary<Breaker> => fc.constant({ label: `${field}: missing`, apply: (body) => void delete body[field] });

/** Applies `change` to one API of the body, when the body still has one. */
const onApi = (label: string, index: number, change: (api: JsonObject, apis: unknown[]) => void): Breaker => ({
  label: `apis: ${label}`,
  apply: (body) => {
    if (!Array.isArray(body.apis) || body.apis.length === 0) return;
    const api = body.apis[index % body.apis.length];
    if (isObject(api)) change(api, body.apis);
  },
});

const brokenApiList = (): fc.Arbitrary<Breaker>[] => [
  set('apis', 'wrong type', notArray),
  set('apis', 'empty', fc.constant([])),
  set(
    'apis',
    'more than 50',
    fc.uniqueArray(awsId, { minLength: 51, maxLength: 120 }).map((ids) => ids.map((id) => ({ id, usagePlans: [{ id: 'plan1' }] }))),
  ),
  remove('apis'),
  fc.tuple(fc.nat(), notObject).map(([index, item]) => ({
    label: 'apis: item not an object',
    apply: (body: JsonObject) => void (Array.isArray(body.apis) && body.apis.splice(index % (body.apis.length + 1), 0, clone(item))),
  })),
  fc.nat().map((index) => onApi('id missing', index, (api) => void delete api.id)),
  fc.tuple(fc.nat(), notString).map(([index, id]) => onApi('id of the wrong type', index, (api) => void (api.id = clone(id)))),
  fc.tuple(fc.nat(), invalidAwsId).map(([index, id]) => onApi('id not an identifier', index, (api) => void (api.id = id))),
  fc.nat().map((index) => onApi('listed twice', index, (api, apis) => void apis.push(clone(api)))),
  fc.tuple(fc.nat(), notArray).map(([index, plans]) => onApi('usagePlans of the wrong type', index, (api) => void (api.usagePlans = clone(plans)))),
  fc
    .tuple(fc.nat(), fc.uniqueArray(awsId, { minLength: 11, maxLength: 40 }))
    .map(([index, ids]) => onApi('more than 10 usage plans', index, (api) => void (api.usagePlans = ids.map((id) => ({ id }))))),
  fc
    .tuple(fc.nat(), notObject)
    .map(([index, plan]) =>
      onApi('usage plan not an object', index, (api) => void (Array.isArray(api.usagePlans) && api.usagePlans.push(clone(plan)))),
    ),
  fc
    .tuple(fc.nat(), fc.oneof(notString, invalidAwsId))
    .map(([index, id]) =>
      onApi('usage plan id invalid', index, (api) => void (Array.isArray(api.usagePlans) && api.usagePlans.push({ id: clone(id) }))),
    ),
  fc
    .nat()
    .map((index) => onApi('usage plan without id', index, (api) => void (Array.isArray(api.usagePlans) && api.usagePlans.push({ name: 'gold' })))),
  fc.nat().map((index) =>
    onApi('usage plan listed twice', index, (api) => {
      const plans = Array.isArray(api.usagePlans) ? api.usagePlans : [];
      const first = plans[0];
      // Valid bodies give every API a plan; an earlier breaker that emptied them already made the body invalid.
      if (isObject(first)) plans.push({ ...first });
    }),
  ),
];

/** The app fields' breakers; the many ways to break `apis` count together as a few fields' worth. */
const brokenAppFields = (): (fc.Arbitrary<Breaker> | { arbitrary: fc.Arbitrary<Breaker>; weight: number })[] => [
  set('appName', 'wrong type', notString),
  set('appName', 'empty or whitespace', blank),
  set('appName', 'over 256 characters', hugeText(257)),
  remove('appName'),
  set('appSlug', 'wrong type', notString),
  set('appSlug', 'not a slug', invalidSlug),
  set('developer', 'wrong type', notString),
  set('developer', 'not an e-mail address', invalidEmail),
  remove('developer'),
  set('customCredentials', 'not an object', notObject),
  { arbitrary: fc.oneof(...brokenApiList()), weight: 4 },
];

const brokenCredentialRef = (): fc.Arbitrary<Breaker>[] => [
  set('credentialType', 'wrong type', notString),
  set('credentialType', 'not a credential type', invalidCredentialType),
  remove('credentialType'),
  set('apiKeyId', 'wrong type', notString),
  set('apiKeyId', 'not an identifier', invalidAwsId),
  set('clientId', 'wrong type', notString),
  set('clientId', 'not an identifier', invalidAwsId),
  fc.tuple(fc.constantFrom<CredentialTypeName>('API_KEY', 'CLIENT_CREDENTIALS'), awsId).map(([type, id]) => ({
    label: 'id of the other credential type',
    apply: (body: JsonObject) => {
      body.credentialType = type;
      body[idField(type === 'API_KEY' ? 'CLIENT_CREDENTIALS' : 'API_KEY')] = id;
    },
  })),
];

const breakers: Record<BodyRoute, fc.Arbitrary<Breaker>> = {
  createCredentials: fc.oneof(...brokenAppFields()),
  updateCredentials: fc.oneof(...brokenAppFields(), ...brokenCredentialRef()),
  revokeCredentials: fc.oneof(
    ...brokenCredentialRef(),
    set('appName', 'wrong type', notString),
    set('appName', 'empty or whitespace', blank),
    set('appName', 'over 256 characters', hugeText(257)),
    set('appSlug', 'wrong type', notString),
    set('appSlug', 'not a slug', invalidSlug),
    set('developer', 'wrong type', notString),
    set('developer', 'not an e-mail address', invalidEmail),
    set('apis', 'wrong type', notArray),
    set('customCredentials', 'not an object', notObject),
    fc.constant<Breaker>({
      label: 'names no credential',
      apply: (body) => {
        for (const field of ['apiKeyId', 'clientId', 'appSlug', 'appName', 'developer']) delete body[field];
      },
    }),
  ),
};

/** A JSON object that breaks the route's contract in 1–3 ways, with unknown fields and prototype keys mixed in. */
const brokenFields = (route: BodyRoute): fc.Arbitrary<BodyCase> =>
  fc
    .record({
      base: validBody(route, ['API_KEY', 'CLIENT_CREDENTIALS']),
      extras: unknownFields(knownFields[route]),
      broken: fc.array(breakers[route], { minLength: 1, maxLength: 3 }),
      pollution: fc.option(fc.tuple(pollution, fc.array(fc.nat(), { maxLength: 3 })), { nil: undefined }),
      base64: fc.boolean(),
    })
    .map(({ base, extras, broken, pollution: injected, base64 }) => {
      const body = clone(base);
      assignOwn(body, extras);
      for (const breaker of broken) breaker.apply(body);
      if (injected) injectPollution(body, injected[0], injected[1]);
      const text = JSON.stringify(body);
      const kind = `broken fields (${broken.map((breaker) => breaker.label).join('; ')})${injected ? ' + prototype keys' : ''}`;
      return base64
        ? { kind: `${kind}, base64`, body: Buffer.from(text).toString('base64'), isBase64Encoded: true, expected: sized(text, invalid) }
        : { kind, body: text, isBase64Encoded: false, expected: sized(text, invalid) };
    });

/** JSON that is not an object: null, numbers, strings, booleans, arrays (even of valid bodies). */
const notAnObjectBody = (route: BodyRoute): fc.Arbitrary<BodyCase> =>
  fc
    .oneof(
      fc.jsonValue({ maxDepth: 2 }).filter((value) => !isObject(value)),
      validBody(route).map((body) => [body]),
      fc.constantFrom(null, 0, -1, 1e308, '', '{}', 'null', true, false, [], [[]], [{}]),
    )
    .map((value) => ({ kind: 'JSON that is not an object', body: JSON.stringify(value), isBase64Encoded: false, expected: invalid }));

/** Literals JSON does not have. */
const notJsonValue = fc.constantFrom(
  'NaN',
  'Infinity',
  '-Infinity',
  'undefined',
  '0x10',
  '010',
  '.5',
  '5.',
  '+1',
  '1e',
  'True',
  'None',
  'nil',
  "'single'",
  '"a" "b"',
  '[1 2]',
  '{a:1}',
  'new Date()',
  '[1,]',
  '{"a":1,}',
  '"\\x41"',
  '"\\u12"',
  '"\\q"',
  '"\\u{41}"',
  '"\\\'"',
  '"tab\there"',
  '"line\nbreak"',
  '"nul\0"',
  '"abc',
  '-',
  '--1',
);

/** Text that is not JSON: truncated, trailing commas, single quotes, NaN, comments, BOMs, garbage. */
const badJson = (route: BodyRoute): fc.Arbitrary<BodyCase> => {
  const text = validBody(route).map((body) => JSON.stringify(body));
  const cases: fc.Arbitrary<[string, string]>[] = [
    fc.tuple(text, fc.nat()).map(([t, cut]) => ['truncated', t.slice(0, cut % t.length)]),
    text.map((t) => ['trailing comma', `${t.slice(0, -1)},}`]),
    text.map((t) => ['single quotes', t.replaceAll('"', "'")]),
    text.map((t) => ['unquoted keys', t.replace(/"([A-Za-z]+)":/g, '$1:')]),
    fc.tuple(text, notJsonValue).map(([t, literal]) => [`not a JSON value (${literal})`, `${t.slice(0, -1)},"x":${literal}}`]),
    fc.tuple(text, fc.constantFrom('/* c */%', '// c\n%', '%// c', '%/* c */', '%#c')).map(([t, shape]) => ['comment', shape.replace('%', t)]),
    text.map((t) => ['comment inside', t.replace('{', '{/* c */')]),
    fc
      .tuple(text, fc.constantFrom('\ufeff\ufeff%', '%\ufeff', '\ufeff%x', '\ufeff', '\ufeff\ufeff'))
      .map(([t, shape]) => ['byte order marks', shape.replace('%', t)]),
    fc.tuple(text, fc.nat()).map(([t, cut]) => ['byte order mark and truncated', `\ufeff${t.slice(0, cut % t.length)}`]),
    fc
      .tuple(text, fc.constantFrom('x', '}', ']', '%', '\0', ',', ';'))
      .map(([t, garbage]) => ['trailing garbage', garbage === '%' ? `${t}${t}` : `${t}${garbage}`]),
    fc
      .tuple(text, fc.integer({ min: 0, max: 0x1f }))
      .map(([t, code]) => ['raw control character in a string', `${t.slice(0, -1)},"x":"a${String.fromCharCode(code)}b"}`]),
    fc
      .constantFrom('', ' ', '\n\t', 'appName=x&developer=y', '<xml/>', 'null null', '{', '}', '[', '"', "{'a':1}", 'undefined')
      .map((t) => ['not JSON at all', t]),
  ];
  return fc.oneof(...cases).map(([kind, body]) => ({ kind: `bad JSON: ${kind}`, body, isBase64Encoded: false, expected: malformed }));
};

/** Byte sequences that are not UTF-8: bare continuation bytes, overlong forms, surrogates, beyond U+10FFFF, truncated. */
const invalidUtf8Sequences = [
  [0xff],
  [0xfe],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
  [0xbf],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xc3],
];

/** Bodies sent base64-encoded whose bytes are not UTF-8. */
const invalidUtf8 = (route: BodyRoute): fc.Arbitrary<BodyCase> => {
  const text = validBody(route).map((body) => JSON.stringify(body));
  const bytes: fc.Arbitrary<[string, Buffer]>[] = [
    fc.tuple(text, fc.constantFrom(...invalidUtf8Sequences), fc.nat()).map(([t, sequence, at]) => {
      const characters = Array.from(t);
      const cut = at % (characters.length + 1);
      return [
        'invalid UTF-8 sequence',
        Buffer.concat([Buffer.from(characters.slice(0, cut).join('')), Buffer.from(sequence), Buffer.from(characters.slice(cut).join(''))]),
      ];
    }),
    text.map((t) => ['UTF-16 with a byte order mark', Buffer.from(`\ufeff${t}`, 'utf16le')]),
    text.map((t) => ['Latin-1', Buffer.from(`${t.slice(0, -1)},"note":"café ñ"}`, 'latin1')]),
    fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.nat()).map(([random, at]) => {
      const cut = at % (random.length + 1);
      return ['random bytes', Buffer.concat([random.subarray(0, cut), Buffer.from([0xff]), random.subarray(cut)])];
    }),
  ];
  return fc
    .oneof(...bytes)
    .map(([kind, buffer]) => ({ kind: `base64 body: ${kind}`, body: buffer.toString('base64'), isBase64Encoded: true, expected: malformed }));
};

/** Plain JSON text wrongly flagged as base64: what it decodes to is not the body that was meant. */
const mislabeledBase64 = (route: BodyRoute): fc.Arbitrary<BodyCase> =>
  validBody(route).map((body) => ({
    kind: 'plain text flagged as base64',
    body: JSON.stringify(body),
    isBase64Encoded: true,
    expected: notJsonOrInvalid,
  }));

/** Every hostile body of ordinary size, each answered with 400 (or 413 when a huge field pushed it over the limit). */
export const hostileBody = (route: BodyRoute): fc.Arbitrary<BodyCase> =>
  fc.oneof(
    { arbitrary: brokenFields(route), weight: 8 },
    { arbitrary: notAnObjectBody(route), weight: 1 },
    { arbitrary: badJson(route), weight: 4 },
    { arbitrary: invalidUtf8(route), weight: 2 },
    { arbitrary: mislabeledBase64(route), weight: 1 },
  );

// ---------------------------------------------------------------------------
// Heavy bodies: just over the limit, and nested thousands of levels deep
// ---------------------------------------------------------------------------

const marker = 'HOSTILE_MARKER_5f1e';

/** A valid body padded with an unknown field until it is `extra` bytes over the limit. */
const oversize = (route: BodyRoute): fc.Arbitrary<BodyCase> =>
  fc
    .tuple(
      validBody(route),
      fc.integer({ min: 1, max: 4096 }),
      fc.constantFrom('ASCII', '€ (3 bytes)', '😀 (4 bytes)', 'base64', 'not JSON', 'not UTF-8', '1 MB'),
    )
    .map(([body, extra, how]) => {
      const target = bodyLimitBytes + extra;
      const shell = JSON.stringify({ ...body, padding: marker });
      const room = target - byteLength(shell) + marker.length;
      const pad = (unit: string) => unit.repeat(Math.ceil(room / byteLength(unit)));
      const padded = (unit: string) => shell.replace(marker, pad(unit));
      switch (how) {
        case '€ (3 bytes)':
          return { kind: `over 64 KB: ${how}`, body: padded('€'), isBase64Encoded: false, expected: tooLarge };
        case '😀 (4 bytes)':
          return { kind: `over 64 KB: ${how}`, body: padded('😀'), isBase64Encoded: false, expected: tooLarge };
        case 'base64':
          return { kind: `over 64 KB: ${how}`, body: Buffer.from(padded('a')).toString('base64'), isBase64Encoded: true, expected: tooLarge };
        case 'not JSON':
          return { kind: `over 64 KB: ${how}`, body: 'x'.repeat(target), isBase64Encoded: false, expected: tooLarge };
        case 'not UTF-8':
          return {
            kind: `over 64 KB: ${how}`,
            body: Buffer.concat([Buffer.from(padded('a')), Buffer.from([0xff])]).toString('base64'),
            isBase64Encoded: true,
            expected: tooLarge,
          };
        case '1 MB':
          return { kind: `over 64 KB: ${how}`, body: shell.replace(marker, 'a'.repeat(1 << 20)), isBase64Encoded: false, expected: tooLarge };
        default:
          return { kind: `over 64 KB: ${how}`, body: padded('a'), isBase64Encoded: false, expected: tooLarge };
      }
    });

const nested = (depth: number, shape: 'arrays' | 'objects' | 'mixed') => {
  switch (shape) {
    case 'arrays':
      return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    case 'objects':
      return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    case 'mixed':
      return `${'[{"a":'.repeat(depth / 2)}1${'}]'.repeat(depth / 2)}`;
  }
};

/** Fields where no nested array or object is valid: the body stays invalid however deep it goes. */
const stringFields: Record<BodyRoute, readonly string[]> = {
  createCredentials: ['appName', 'developer', 'appSlug', 'apis'],
  updateCredentials: ['appName', 'developer', 'appSlug', 'apis', 'credentialType', 'apiKeyId'],
  revokeCredentials: ['credentialType', 'apiKeyId', 'clientId', 'appName', 'appSlug', 'developer'],
};

/** JSON nested 1,000–10,000 levels deep, as the whole body or as a known field's value. */
const deeplyNested = (route: BodyRoute): fc.Arbitrary<BodyCase> =>
  fc
    .tuple(
      validBody(route),
      fc.integer({ min: 500, max: 5_000 }).map((half) => half * 2),
      fc.constantFrom('arrays', 'objects', 'mixed'),
      fc.constantFrom('(the body)', ...stringFields[route]),
    )
    .map(([body, depth, shape, where]) => {
      const deep = nested(depth, shape);
      // An array of objects is a valid `apis` value shape-wise, but its items lack an id: still invalid.
      const text = where === '(the body)' ? deep : JSON.stringify({ ...body, [where]: marker }).replace(`"${marker}"`, deep);
      return { kind: `nested ${depth} levels (${shape}) in ${where}`, body: text, isBase64Encoded: false, expected: sized(text, notJsonOrInvalid) };
    });

/** Bodies that are expensive to handle: fewer runs, same promises. */
export const heavyBody = (route: BodyRoute): fc.Arbitrary<BodyCase> => fc.oneof(oversize(route), deeplyNested(route));

// ---------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------

const goodAuthorization = basic(portalUser.username, portalUser.password);
const goodToken = goodAuthorization.slice('Basic '.length);
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

/** Strings a response must never contain: the accepted passwords and Basic tokens. */
export const secretsNeverEchoed = [portalUser.password, rotatedUser.password, goodToken, basic(rotatedUser.username, rotatedUser.password).slice(6)];

/** What an accepted token decodes to; `basic(user, password)` is accepted exactly when it decodes to one of these. */
const acceptedDecoded = [portalUser, rotatedUser].map(({ username, password }) => `${username}:${password}`);
const isAcceptedPair = (username: string, password: string) => acceptedDecoded.includes(`${username}:${password}`);

/** Header names as clients send them: any letter case. */
const named = (name: string) => fc.mixedCase(fc.constant(name));

/** Media types the contract accepts as JSON. */
const jsonMediaTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/vnd.sensedia+json',
  'application/json;charset=UTF-8',
);

const harmlessHeaders = fc.array(
  fc.tuple(fc.constantFrom('User-Agent', 'Accept', 'X-Forwarded-For', 'X-Amzn-Trace-Id', 'Host', 'X-Request-Id'), fc.string({ maxLength: 30 })),
  { maxLength: 3 },
);

const contentTypeLine = fc.tuple(named('content-type'), jsonMediaTypes);

/** Correct credentials and (when wanted) a JSON media type, header names in any case. */
export const correctHeaders = (withContentType: boolean): fc.Arbitrary<HeaderSet> =>
  fc
    .tuple(
      named('authorization'),
      fc.constantFrom(goodAuthorization, `bAsIc ${goodToken}`, `BASIC ${goodToken}`, `Basic  ${goodToken}`, `basic    ${goodToken}`),
      contentTypeLine,
      harmlessHeaders,
    )
    .map(([authName, authorization, contentType, others]) => ({
      kind: 'correct headers',
      ...headerMaps([...others, [authName, authorization], ...(withContentType ? [contentType] : [])]),
      presented: [authorization],
    }));

/** Authorization values that must be refused, each with what is wrong with it. */
const hostileAuthorizationValue: fc.Arbitrary<[string, string]> = (() => {
  const notAccepted = fc
    .tuple(fc.string({ maxLength: 40, unit: 'grapheme' }), fc.string({ maxLength: 40, unit: 'grapheme' }))
    .filter(([user, password]) => !isAcceptedPair(user, password));
  const nearUser = fc.constantFrom(
    'Portal',
    'PORTAL',
    'portal ',
    ' portal',
    'portal\0',
    'portaI',
    'роrtal',
    'portal\u200b',
    'portal\n',
    rotatedUser.username,
    'someone',
  );
  const nearPassword = fc.constantFrom(
    `${portalUser.password} `,
    ` ${portalUser.password}`,
    portalUser.password.toUpperCase(),
    portalUser.password.slice(0, -1),
    `${portalUser.password}\n`,
    `${portalUser.password}\0`,
    rotatedUser.password,
    '',
    `${portalUser.password}${portalUser.password}`,
    portalUser.password.replace('-', '‐'),
  );
  const flipOneLetter = fc.nat().map((at) => {
    const letters = [...goodToken].flatMap((character, index) => (/[A-Za-z]/.test(character) ? [index] : []));
    const index = letters[at % letters.length] as number;
    const character = goodToken.charAt(index);
    const flipped = character === character.toUpperCase() ? character.toLowerCase() : character.toUpperCase();
    return `${goodToken.slice(0, index)}${flipped}${goodToken.slice(index + 1)}`;
  });
  const cases: fc.Arbitrary<[string, string]>[] = [
    fc.constant(['empty', '']),
    fc
      .tuple(
        fc.constantFrom(
          'Bearer',
          'Digest',
          'Basics',
          'Basic:',
          'Negotiate',
          'NTLM',
          'AWS4-HMAC-SHA256',
          'Token',
          'B asic',
          'Вasic',
          'Baſic',
          'Basic-',
        ),
        fc.constant(goodToken),
      )
      .map(([scheme, token]) => ['another scheme', `${scheme} ${token}`]),
    fc
      .constantFrom(
        `Basic${goodToken}`,
        `Basic \t${goodToken}`,
        ` Basic ${goodToken}`,
        `Basic ${goodToken} `,
        `Basic\t${goodToken}`,
        `Basic\n${goodToken}`,
        `Basic ${goodToken}\r\n`,
        `Basic\u00a0${goodToken}`,
        `Basic ${goodToken}\0`,
        `Basic "${goodToken}"`,
        `Basic ${goodToken},`,
        `Basic ${goodToken}; charset=UTF-8`,
        `Basic ${goodToken}, Basic ${goodToken}`,
        `Basic realm="x" ${goodToken}`,
        'Basic',
        'Basic ',
        goodToken,
        `Basic ${b64(goodAuthorization)}`,
        `Basic ${goodToken}=`,
        `Basic ${goodToken.replace(/=+$/, '')}`,
        `Basic ${goodToken}==`,
        `Basic =${goodToken}`,
        `Basic ${goodToken.replaceAll('+', '-').replaceAll('/', '_')}x`,
      )
      .map((value): [string, string] => ['malformed around the token', value]),
    fc.tuple(fc.nat(), fc.constantFrom(' ', '\t', '\n', '\r\n', '.', '-', '_', '!', '*', '%', 'é', '😀', '\0')).map(([at, inserted]) => {
      const cut = 1 + (at % (goodToken.length - 1));
      return ['character inside the token', `Basic ${goodToken.slice(0, cut)}${inserted}${goodToken.slice(cut)}`];
    }),
    flipOneLetter.map((token) => ['token in another letter case', `Basic ${token}`]),
    fc
      .string({ maxLength: 60 })
      .filter((token) => token.replace(/^ +/, '') !== goodToken)
      .map((token) => ['not base64', `Basic ${token}`]),
    fc
      .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }))
      .map(([user, password]) => ['no colon', `Basic ${b64(`${user}${password}`.replaceAll(':', ''))}`]),
    fc.oneof(fc.constant(portalUser.password), fc.string({ maxLength: 30 })).map((password) => ['empty user', `Basic ${b64(`:${password}`)}`]),
    nearUser.map((user) => ['right password, another user', basic(user, portalUser.password)]),
    nearPassword.map((password) => ['right user, another password', basic(portalUser.username, password)]),
    notAccepted.map(([user, password]) => ['wrong pair', basic(user, password)]),
    fc.integer({ min: 4_000, max: 100_000 }).map((length) => ['very long password', basic(portalUser.username, 'p'.repeat(length))]),
    fc.integer({ min: 4_000, max: 100_000 }).map((length) => ['very long value', `Basic ${'A'.repeat(length)}${length % 2 === 0 ? '==' : ''}`]),
    fc
      .constantFrom('Basic пароль', 'Basic 😀😀😀😀', `Basic ${goodToken}\u202e`, 'Basic\u3000x', 'Ваsic eA==')
      .map((value) => ['unicode in the header', value]),
    fc
      .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 20 }))
      .filter(([user, password]) => !isAcceptedPair(user, password))
      .map(([user, password]) => ['unicode credentials', basic(user, password)]),
    fc
      .constantFrom(
        [0x70, 0x3a, 0xff, 0xfe],
        [0xff, 0x3a, 0x70],
        [0x70, 0x6f, 0x72, 0x74, 0x61, 0x6c, 0x3a, 0xc0, 0x80],
        [0x70, 0x3a, 0xed, 0xa0, 0x80],
      )
      .map((bytes) => ['credentials not UTF-8', `Basic ${b64(Buffer.from(bytes))}`]),
    fc.constant(['Latin-1 credentials', `Basic ${Buffer.from('portal:café-horse', 'latin1').toString('base64')}`]),
  ];
  return fc.oneof(...cases);
})();

/** Authorization headers that must be answered 401 with a Basic challenge, in every shape an event can carry them. */
export const hostileAuthorizationHeaders = (withContentType: boolean): fc.Arbitrary<HeaderSet> => {
  const context = fc.tuple(contentTypeLine, harmlessHeaders);
  const withContext = (kind: string, lines: [string, string][], presented: string[]) =>
    context.map(([contentType, others]) => ({ kind, ...headerMaps([...others, ...lines, ...(withContentType ? [contentType] : [])]), presented }));
  const shapes: fc.Arbitrary<HeaderSet>[] = [
    // One Authorization header, name in any case.
    fc
      .tuple(named('authorization'), hostileAuthorizationValue)
      .chain(([name, [kind, value]]) => withContext(`Authorization: ${kind}`, [[name, value]], [value])),
    // No Authorization header at all, or the right value under another name.
    withContext('no Authorization header', [], []),
    fc
      .tuple(
        fc.constantFrom('Proxy-Authorization', 'X-Authorization', 'Authorisation', 'Authorization ', 'Authentication', 'WWW-Authenticate'),
        fc.constant(goodAuthorization),
      )
      .chain(([name, value]) => withContext(`credentials under ${JSON.stringify(name)}`, [[name, value]], [value])),
    // Two Authorization headers, one of them (or both) correct: ambiguous, so refused.
    fc
      .tuple(named('authorization'), hostileAuthorizationValue, fc.boolean(), fc.boolean())
      .chain(([name, [kind, other], correctFirst, bothCorrect]) => {
        const second = bothCorrect ? goodAuthorization : other;
        const lines: [string, string][] = correctFirst
          ? [
              [name, goodAuthorization],
              [name, second],
            ]
          : [
              [name, second],
              [name, goodAuthorization],
            ];
        return withContext(`two Authorization headers (${bothCorrect ? 'both correct' : `one correct, one ${kind}`})`, lines, [
          goodAuthorization,
          second,
        ]);
      }),
  ];
  // `headers` and `multiValueHeaders` telling different stories: refused whenever either is hostile in a way the parser can see.
  const disagreeing = fc
    .tuple(
      named('authorization'),
      hostileAuthorizationValue,
      contentTypeLine,
      fc.constantFrom(
        'headers wrong, multiValueHeaders right',
        'headers missing, multiValueHeaders right',
        'headers right, multiValueHeaders two values',
      ),
    )
    .map(([name, [kind, value], [ctName, ctValue], story]): HeaderSet => {
      const multiValueHeaders: Record<string, string[]> = withContentType ? { [ctName]: [ctValue] } : {};
      const headers: Record<string, string> = withContentType ? { [ctName]: ctValue } : {};
      if (story === 'headers wrong, multiValueHeaders right') {
        headers[name] = value;
        multiValueHeaders[name] = [goodAuthorization];
      } else if (story === 'headers missing, multiValueHeaders right') {
        multiValueHeaders[name] = [goodAuthorization];
      } else {
        headers[name] = goodAuthorization;
        multiValueHeaders[name] = [value, goodAuthorization];
      }
      return { kind: `${story} (${kind})`, headers, multiValueHeaders, presented: [value, goodAuthorization] };
    });
  const [single, missing, misnamed, twice] = shapes as [
    fc.Arbitrary<HeaderSet>,
    fc.Arbitrary<HeaderSet>,
    fc.Arbitrary<HeaderSet>,
    fc.Arbitrary<HeaderSet>,
  ];
  return fc.oneof(
    { arbitrary: single, weight: 12 },
    { arbitrary: missing, weight: 1 },
    { arbitrary: misnamed, weight: 1 },
    { arbitrary: twice, weight: 3 },
    { arbitrary: disagreeing, weight: 2 },
  );
};

/** Content-Type values that do not declare JSON. */
const notJsonMediaType = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'text/plain',
    'text/json',
    'text/html',
    'application/jsonp',
    'application/json-seq',
    'application/jsonx',
    'application/json+xml',
    'application/problem+xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/octet-stream',
    '*/*',
    'application/*',
    'json',
    'application/ json',
    ' application/json',
    'application/json, text/plain',
    'text/plain, application/json',
    'application/json\0',
    'application\\json',
    'application/jsón',
    'аpplication/json',
    'application/js',
    'application/json\u00a0x',
  ),
  fc.string({ maxLength: 40 }).filter((value) => !/json/i.test(value)),
);

/** Correct credentials, but no Content-Type, or one that is not JSON, in every shape an event can carry it. */
export const hostileContentTypeHeaders = (): fc.Arbitrary<HeaderSet> =>
  fc
    .tuple(
      named('authorization'),
      named('content-type'),
      notJsonMediaType,
      jsonMediaTypes,
      harmlessHeaders,
      fc.constantFrom('missing', 'not JSON', 'repeated, last not JSON', 'only in multiValueHeaders'),
    )
    .map(([authName, ctName, wrong, json, others, shape]): HeaderSet => {
      const auth: [string, string] = [authName, goodAuthorization];
      const base = { presented: [goodAuthorization] };
      switch (shape) {
        case 'missing':
          return { kind: 'Content-Type missing', ...headerMaps([...others, auth]), ...base };
        case 'not JSON':
          return { kind: `Content-Type ${JSON.stringify(wrong)}`, ...headerMaps([...others, auth, [ctName, wrong]]), ...base };
        case 'repeated, last not JSON':
          return {
            kind: `Content-Type repeated: ${JSON.stringify(json)} then ${JSON.stringify(wrong)}`,
            ...headerMaps([...others, auth, [ctName, json], [ctName, wrong]]),
            ...base,
          };
        default: {
          const maps = headerMaps([...others, auth]);
          return {
            kind: 'Content-Type only in multiValueHeaders',
            headers: maps.headers,
            multiValueHeaders: { ...maps.multiValueHeaders, [ctName]: [json] },
            ...base,
          };
        }
      }
    });
