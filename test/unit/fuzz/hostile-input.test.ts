import {
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetUsagePlanCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handler as create } from '../../../lambda/handlers/create-credentials.ts';
import { handler as health } from '../../../lambda/handlers/health.ts';
import { handler as revoke } from '../../../lambda/handlers/revoke-credentials.ts';
import { handler as update } from '../../../lambda/handlers/update-credentials.ts';
import { appKeyOf } from '#provisioning/app-identity';
import { aws, registryHolds, resetAwsMocks } from '../../helpers/aws-mocks.ts';
import {
  type BodyCase,
  type BodyRoute,
  bodyRoutes,
  correctHeaders,
  type HeaderSet,
  heavyBody,
  hostileAuthorizationHeaders,
  hostileBody,
  hostileContentTypeHeaders,
  pollutionSentinels,
  type Refusal,
  type Route,
  secretsNeverEchoed,
  unauthorizedRefusal,
  unsupportedMediaTypeRefusal,
  validBody,
  validBodyWithUnknownFields,
} from '../../helpers/hostile-arbitraries.ts';
import { expectResponseMatchesOpenApi } from '../../helpers/openapi.ts';
import { basic, lambdaContext, portalUser, proxyEvent } from '../../helpers/portal.ts';

/**
 * Property-based fuzzing of every route with requests a broken or hostile client
 * could send. Each one must be refused with the contract's 4xx and error body,
 * leak nothing, pollute no prototype and never reach API Gateway or DynamoDB.
 * Replay a failure with FUZZ_SEED=<seed> (fast-check prints the seed and path).
 */

const routes: Record<
  Route,
  { method: 'GET' | 'POST'; path: string; handler: (event: APIGatewayProxyEvent, context: typeof lambdaContext) => Promise<APIGatewayProxyResult> }
> = {
  createCredentials: { method: 'POST', path: '/v1/createCredentials', handler: create },
  updateCredentials: { method: 'POST', path: '/v1/updateCredentials', handler: update },
  revokeCredentials: { method: 'POST', path: '/v1/revokeCredentials', handler: revoke },
  health: { method: 'GET', path: '/v1/health', handler: health },
};

const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const runs = (numRuns: number) => ({ numRuns, ...(seed === undefined ? {} : { seed }) });
const propertyTimeoutMs = 60_000;

/** Hostile requests sent per route, checked at the end of the file against the 200 the suite promises. */
const generated: Record<Route, number> = { createCredentials: 0, updateCredentials: 0, revokeCredentials: 0, health: 0 };

const keyValue = 'k3yV4lu3-fuzz-0123456789abcdefghij';

const send = async (route: Route, headers: HeaderSet, body: Pick<BodyCase, 'body' | 'isBase64Encoded'>) => {
  const { method, path, handler } = routes[route];
  const event: APIGatewayProxyEvent = {
    ...proxyEvent({ method, path }),
    headers: headers.headers,
    multiValueHeaders: headers.multiValueHeaders,
    body: body.body,
    isBase64Encoded: body.isBase64Encoded,
  };
  return handler(event, lambdaContext);
};

// ---------------------------------------------------------------------------
// What every answer must satisfy
// ---------------------------------------------------------------------------

/**
 * Signs of a stack trace or raw error text. A bare "at " is not used: the contract's
 * own message "must name at least one API" contains it; V8 frames look like these.
 */
const stackTraceSigns = [/\bat [^\s()]+ \([^()]*:\d+:\d+\)/, /\bat (?:file|node):[^\s]*:\d+/, /\.ts:/, /\.[cm]?js:\d+/, /Error:/];

const prototypeSnapshot = () =>
  [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((prototype) =>
    Reflect.ownKeys(prototype).map(String).sort().join(','),
  );
const pristinePrototypes = prototypeSnapshot();

const expectNoPollution = () => {
  expect(prototypeSnapshot()).toEqual(pristinePrototypes);
  for (const key of pollutionSentinels) {
    expect(({} as Record<string, unknown>)[key]).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>)[key]).toBeUndefined();
  }
};

const expectNothingLeaked = (response: APIGatewayProxyResult, presented: readonly string[]) => {
  const text = `${response.body}\n${JSON.stringify(response.headers ?? {})}`;
  for (const sign of stackTraceSigns) expect(text, `stack trace sign ${sign}`).not.toMatch(sign);
  // Short presented values ("Basic x") can occur in any English sentence; long ones cannot.
  for (const secret of [...secretsNeverEchoed, ...presented.filter((value) => value.length >= 20)]) {
    expect(text.includes(secret), `the response echoes ${JSON.stringify(secret.slice(0, 40))}`).toBe(false);
  }
};

/** The request went no further than reading the Basic-auth secret. */
const expectAwsUntouched = () => {
  expect(aws.apiGateway.calls(), 'API Gateway calls').toHaveLength(0);
  expect(aws.dynamodb.calls(), 'DynamoDB calls').toHaveLength(0);
  expect(aws.secrets.calls().every((call) => call.args[0] instanceof GetSecretValueCommand)).toBe(true);
};

const expectRefused = (route: Route, kind: string, expected: Refusal, presented: readonly string[], response: APIGatewayProxyResult) => {
  const { method, path } = routes[route];
  expect(response.statusCode, kind).toBe(expected.status);
  expectResponseMatchesOpenApi(method, path, response);
  const body = JSON.parse(response.body) as { code: string; message: string };
  expect(expected.codes, kind).toContain(body.code);
  if (expected.status === 401) expect(response.headers?.['WWW-Authenticate']).toMatch(/^Basic realm="[^"]*"/);
  expectNothingLeaked(response, presented);
  expectAwsUntouched();
  expectNoPollution();
};

/** Act and Assess for one hostile request, on fresh mocks. */
const expectHostileRefused = async (route: Route, headers: HeaderSet, body: BodyCase, expected: Refusal) => {
  // Prepare
  resetAwsMocks();
  generated[route] += 1;

  // Act
  const response = await send(route, headers, body);

  // Assess
  expectRefused(route, `${headers.kind} / ${body.kind}`, expected, headers.presented, response);
};

/** A body the route would accept, for requests whose headers are the hostile part. */
const acceptableBody = (route: BodyRoute) =>
  validBody(route).map(
    (body): BodyCase => ({ kind: 'valid body', body: JSON.stringify(body), isBase64Encoded: false, expected: { status: 400, codes: [] } }),
  );
/** Either a valid body or a hostile one: header checks come first, so the answer must not depend on it. */
const anyBody = (route: BodyRoute) => fc.oneof({ arbitrary: acceptableBody(route), weight: 3 }, { arbitrary: hostileBody(route), weight: 1 });

// ---------------------------------------------------------------------------
// A successful AWS, for the requests that must be accepted
// ---------------------------------------------------------------------------

const mockSuccessfulAws = (body: Record<string, unknown>) => {
  resetAwsMocks();
  const credentialId = typeof body.apiKeyId === 'string' ? body.apiKeyId : 'key123';
  const owned = {
    // The key of the app as the handler sees it: the contract trims appName before it is hashed.
    appKey:
      appKeyOf({
        ...(body as { appSlug?: string; developer?: string }),
        appName: typeof body.appName === 'string' ? body.appName.trim() : undefined,
      }) ?? 'no-app-key',
    state: 'ACTIVE',
    credentialType: 'API_KEY',
    credentialId,
    developer: typeof body.developer === 'string' ? body.developer : 'dev@example.com',
    usagePlanIds: [],
  };
  aws.dynamodb.on(PutCommand).resolves({});
  aws.dynamodb.on(UpdateCommand).resolves({});
  aws.dynamodb.on(DeleteCommand).resolves({});
  registryHolds(owned);
  aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key123', value: keyValue });
  aws.apiGateway.on(CreateUsagePlanKeyCommand).resolves({});
  aws.apiGateway.on(DeleteUsagePlanKeyCommand).resolves({});
  aws.apiGateway.on(DeleteApiKeyCommand).resolves({});
  aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [] });
  // Every plan the body names serves every API it names, each plan on a stage of its own.
  const apiIds = Array.isArray(body.apis) ? (body.apis as { id: string }[]).map((api) => api.id) : [];
  aws.apiGateway
    .on(GetUsagePlanCommand)
    .callsFake(async ({ usagePlanId }) => ({ id: usagePlanId, apiStages: apiIds.map((apiId) => ({ apiId, stage: `stage-${usagePlanId}` })) }));
};

const planIdsOf = (body: Record<string, unknown>) =>
  [...new Set((body.apis as { usagePlans: { id: string }[] }[]).flatMap((api) => api.usagePlans.map((plan) => plan.id)))].sort();

// ---------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------

describe('Hostile requests are refused by the contract and never reach AWS', () => {
  for (const route of bodyRoutes) {
    describe(`POST /v1/${route}`, () => {
      it(
        'refuses wrongly typed, empty, oversized-field, duplicated, non-JSON, non-UTF-8 and prototype-polluting bodies with 400',
        async () => {
          await fc.assert(
            fc.asyncProperty(correctHeaders(true), hostileBody(route), (headers, body) => expectHostileRefused(route, headers, body, body.expected)),
            runs(400),
          );
        },
        propertyTimeoutMs,
      );

      it(
        'refuses bodies just over 64 KB with 413 and JSON nested thousands of levels deep with 400',
        async () => {
          await fc.assert(
            fc.asyncProperty(correctHeaders(true), heavyBody(route), (headers, body) => expectHostileRefused(route, headers, body, body.expected)),
            runs(60),
          );
        },
        propertyTimeoutMs,
      );

      it(
        'refuses hostile Authorization headers with 401 and a Basic challenge, whatever the body',
        async () => {
          await fc.assert(
            fc.asyncProperty(hostileAuthorizationHeaders(true), anyBody(route), (headers, body) =>
              expectHostileRefused(route, headers, body, unauthorizedRefusal),
            ),
            runs(250),
          );
        },
        propertyTimeoutMs,
      );

      it(
        'refuses a missing, non-JSON or last-repeated non-JSON Content-Type with 415, whatever the body',
        async () => {
          await fc.assert(
            fc.asyncProperty(hostileContentTypeHeaders(), anyBody(route), (headers, body) =>
              expectHostileRefused(route, headers, body, unsupportedMediaTypeRefusal),
            ),
            runs(100),
          );
        },
        propertyTimeoutMs,
      );

      it(
        'accepts a valid body carrying unknown fields at every level, prototype keys included, and ignores them',
        async () => {
          await fc.assert(
            fc.asyncProperty(correctHeaders(true), validBodyWithUnknownFields(route), async (headers, body) => {
              // Prepare
              mockSuccessfulAws(body);

              // Act
              const response = await send(route, headers, { body: JSON.stringify(body), isBase64Encoded: false });

              // Assess
              expect(response.statusCode, response.body).toBe(route === 'createCredentials' ? 200 : 204);
              expectResponseMatchesOpenApi('POST', `/v1/${route}`, response);
              expectNoPollution();
              if (route === 'createCredentials') {
                expect(JSON.parse(response.body)).toEqual({ credentialType: 'API_KEY', apiKeyId: 'key123', apiKey: keyValue });
                const keyInput = aws.apiGateway.commandCalls(CreateApiKeyCommand)[0]?.args[0].input;
                expect(Object.keys(keyInput ?? {}).sort()).toEqual(['description', 'enabled', 'name', 'tags']);
                const linked = aws.apiGateway.commandCalls(CreateUsagePlanKeyCommand).map((call) => call.args[0].input.usagePlanId);
                expect(linked.sort()).toEqual(planIdsOf(body));
              }
              if (route === 'updateCredentials') {
                const grants = aws.dynamodb.commandCalls(UpdateCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':plans']);
                expect(grants.filter(Boolean)).toEqual([planIdsOf(body)]);
              }
              if (route === 'revokeCredentials') {
                expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand).map((call) => call.args[0].input.apiKey)).toEqual([
                  typeof body.apiKeyId === 'string' ? body.apiKeyId : 'key123',
                ]);
              }
            }),
            runs(100),
          );
        },
        propertyTimeoutMs,
      );
    });
  }

  describe('GET /v1/health', () => {
    it(
      'refuses hostile Authorization headers with 401 and a Basic challenge',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            hostileAuthorizationHeaders(false),
            fc.oneof(
              hostileBody('createCredentials'),
              fc.constant<BodyCase>({ kind: 'no body', body: null, isBase64Encoded: false, expected: unauthorizedRefusal }),
            ),
            (headers, body) => expectHostileRefused('health', headers, body, unauthorizedRefusal),
          ),
          runs(300),
        );
      },
      propertyTimeoutMs,
    );

    it(
      'accepts the correct credentials under an Authorization header name in any letter case',
      async () => {
        await fc.assert(
          fc.asyncProperty(correctHeaders(false), async (headers) => {
            // Prepare
            resetAwsMocks();

            // Act
            const response = await send('health', headers, { body: null, isBase64Encoded: false });

            // Assess
            expect(response.statusCode, headers.kind).toBe(204);
            expectResponseMatchesOpenApi('GET', '/v1/health', response);
          }),
          runs(50),
        );
      },
      propertyTimeoutMs,
    );
  });

  // Found by the properties above; kept as examples of the two ambiguous shapes.
  describe('ambiguous Authorization headers', () => {
    const good = basic(portalUser.username, portalUser.password);
    const intruder = basic('intruder', 'guess-guess');
    const healthEvent = (headers: Record<string, string>, multiValueHeaders: Record<string, string[]>): HeaderSet => ({
      kind: 'ambiguous',
      headers,
      multiValueHeaders,
      presented: [good, intruder],
    });
    const noBody: BodyCase = { kind: 'no body', body: null, isBase64Encoded: false, expected: unauthorizedRefusal };

    it('refuses two Authorization headers whose names differ only in letter case', async () => {
      // Prepare: local/http-bridge.ts (like API Gateway, it says) keys header lines by their name as sent.
      resetAwsMocks();
      const headers = healthEvent({ authorization: intruder, Authorization: good }, { authorization: [intruder], Authorization: [good] });

      // Act
      const response = await send('health', headers, noBody);

      // Assess
      expectRefused('health', headers.kind, unauthorizedRefusal, headers.presented, response);
    });

    it('refuses an event whose headers and multiValueHeaders disagree on Authorization', async () => {
      // Prepare
      resetAwsMocks();
      const headers = healthEvent({ Authorization: good }, { Authorization: [intruder] });

      // Act
      const response = await send('health', headers, noBody);

      // Assess
      expectRefused('health', headers.kind, unauthorizedRefusal, headers.presented, response);
    });
  });

  // Runs last (vitest runs a file's tests in order): the properties above must have sent enough.
  it('sent at least 200 hostile requests to every route', () => {
    for (const route of Object.keys(routes) as Route[]) expect(generated[route], route).toBeGreaterThanOrEqual(200);
  });
});
