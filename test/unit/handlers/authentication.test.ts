import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as create } from '../../../lambda/handlers/create-credentials.ts';
import { handler as health } from '../../../lambda/handlers/health.ts';
import { handler as revoke } from '../../../lambda/handlers/revoke-credentials.ts';
import { handler as update } from '../../../lambda/handlers/update-credentials.ts';
import { aws, resetAwsMocks } from '../../helpers/aws-mocks.ts';
import { expectResponseMatchesOpenApi } from '../../helpers/openapi.ts';
import { basic, createRequest, lambdaContext, portalUser, proxyEvent, rotatedUser } from '../../helpers/portal.ts';

const routes = [
  { name: 'createCredentials', method: 'POST', handler: create },
  { name: 'updateCredentials', method: 'POST', handler: update },
  { name: 'revokeCredentials', method: 'POST', handler: revoke },
  { name: 'health', method: 'GET', handler: health },
] as const;

const refusedHeaders: [string, Record<string, string>][] = [
  ['a missing header', { Authorization: '' }],
  ['another scheme', { Authorization: `Bearer ${Buffer.from('portal:x').toString('base64')}` }],
  ['no space after the scheme', { Authorization: `Basic${Buffer.from(`${portalUser.username}:${portalUser.password}`).toString('base64')}` }],
  ['bad base64', { Authorization: 'Basic !!!not-base64!!!' }],
  ['unpadded base64', { Authorization: `Basic ${Buffer.from('portal:abc').toString('base64').replace(/=+$/, '')}x` }],
  ['no colon', { Authorization: `Basic ${Buffer.from('portalpassword').toString('base64')}` }],
  ['an empty user', { Authorization: basic('', portalUser.password) }],
  ['invalid UTF-8', { Authorization: `Basic ${Buffer.from([0x70, 0x3a, 0xff, 0xfe]).toString('base64')}` }],
  ['a wrong user', { Authorization: basic('someone', portalUser.password) }],
  ['a wrong password', { Authorization: basic(portalUser.username, `${portalUser.password}x`) }],
  ["another pair's password", { Authorization: basic(portalUser.username, rotatedUser.password) }],
];

describe('Basic authentication on every route', () => {
  beforeEach(resetAwsMocks);

  for (const route of routes) {
    for (const [problem, headers] of refusedHeaders) {
      it(`refuses ${problem} on ${route.name} with 401 and a Basic challenge, before any provisioning`, async () => {
        // Prepare
        const event = proxyEvent({ method: route.method, path: `/v1/${route.name}`, body: createRequest(), headers });

        // Act
        const response = await route.handler(event, lambdaContext);

        // Assess
        expect(response.statusCode).toBe(401);
        expect(response.headers?.['WWW-Authenticate']).toMatch(/^Basic realm="portal-credentials-webhook"/);
        expect(JSON.parse(response.body)).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
        expect(response.body).not.toContain(portalUser.password);
        expect(aws.apiGateway.calls()).toHaveLength(0);
        expect(aws.dynamodb.calls()).toHaveLength(0);
        expectResponseMatchesOpenApi(route.method, `/v1/${route.name}`, response);
      });
    }
  }

  it('accepts the second pair while a rotation is under way', async () => {
    // Prepare
    const event = proxyEvent({ method: 'GET', path: '/v1/health', headers: { Authorization: basic(rotatedUser.username, rotatedUser.password) } });

    // Act
    const response = await health(event, lambdaContext);

    // Assess
    expect(response.statusCode).toBe(204);
  });

  it('accepts the scheme name in any case, as RFC 7617 allows', async () => {
    // Prepare
    const token = Buffer.from(`${portalUser.username}:${portalUser.password}`).toString('base64');
    const event = proxyEvent({ method: 'GET', path: '/v1/health', headers: { Authorization: `bAsIc ${token}` } });

    // Act
    const response = await health(event, lambdaContext);

    // Assess
    expect(response.statusCode).toBe(204);
  });

  it('refuses two Authorization headers even when one of them is right', async () => {
    // Prepare
    const good = basic(portalUser.username, portalUser.password);
    const event = proxyEvent({
      method: 'GET',
      path: '/v1/health',
      headers: { Authorization: good },
      multiValueHeaders: { Authorization: [basic('intruder', 'guess'), good] },
    });

    // Act
    const response = await health(event, lambdaContext);

    // Assess
    expect(response.statusCode).toBe(401);
  });

  it('answers 503 without reaching provisioning when the secret cannot be read', async () => {
    // Prepare
    aws.secrets
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('AccessDenied on arn:aws:secretsmanager:...'), { name: 'AccessDeniedException' }));
    const event = proxyEvent({ body: createRequest() });

    // Act
    const response = await create(event, lambdaContext);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ code: 'AUTH_UNAVAILABLE', message: expect.any(String) });
    expect(response.body).not.toContain('arn:');
    expect(aws.apiGateway.calls()).toHaveLength(0);
  });

  it('answers 503 when the secret does not hold username/password pairs', async () => {
    // Prepare
    aws.secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ user: 'portal', pass: 'x' }) });

    // Act
    const response = await health(proxyEvent({ method: 'GET', path: '/v1/health' }), lambdaContext);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).code).toBe('AUTH_MISCONFIGURED');
  });

  it('reads the secret once and serves later requests from the cache', async () => {
    // Prepare
    const event = proxyEvent({ method: 'GET', path: '/v1/health' });

    // Act
    await health(event, lambdaContext);
    await health(event, lambdaContext);
    await health(event, lambdaContext);

    // Assess
    expect(aws.secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });
});
