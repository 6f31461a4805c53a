import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionBundles } from '../../../infra/function-code.ts';
import { portalUser, proxyEvent } from '../../helpers/portal.ts';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const run = promisify(execFile);

/** The health function as the construct bundles it (the package's prebuilt bundle), its policy beside it, with esbuild's record of what went in. */
let assetDir: string;
let metafile: Metafile;
beforeAll(() => {
  const outdir = mkdtempSync(join(tmpdir(), 'function-bundling-'));
  metafile = buildFunctionBundles(outdir, ['health']).metafile;
  assetDir = join(outdir, 'health');
  writeFileSync(join(assetDir, 'credential-policy.json'), JSON.stringify({ defaultType: 'API_KEY', apis: {} }));
}, 60_000);

/** Secrets Manager's GetSecretValue (awsJson1_1), answering the Basic-auth pair and keeping each request's headers. */
const secretsManager = createServer((request, response) => {
  secretsManager.requests.push(request.headers);
  request.resume().on('end', () => {
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(
      JSON.stringify({
        ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:basic-AbCdEf',
        Name: 'basic',
        SecretString: JSON.stringify([portalUser]),
        VersionId: 'v1',
      }),
    );
  });
}) as ReturnType<typeof createServer> & { requests: IncomingHttpHeaders[] };
secretsManager.requests = [];
beforeAll(() => new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => secretsManager.close(() => resolve())));

/** A home whose ~/.aws holds a default profile: what the SDK's full default chain falls back to. */
const homeWithProfile = () => {
  const home = mkdtempSync(join(tmpdir(), 'home-'));
  mkdirSync(join(home, '.aws'));
  writeFileSync(
    join(home, '.aws', 'credentials'),
    '[default]\naws_access_key_id = PROFILEKEYIDEXAMPLE01\naws_secret_access_key = not-a-real-secret-profile-example\n',
  );
  return home;
};

const roleCredentials = {
  AWS_ACCESS_KEY_ID: 'ASIAROLEROLEROLEROLE',
  AWS_SECRET_ACCESS_KEY: 'role/role/role/role/role/role/role/role00',
  AWS_SESSION_TOKEN: 'role-session-token',
};

/**
 * Starts a Node process, as Lambda does, that imports `module` and invokes its handler with a
 * health request once; answers the handler's response. Secrets Manager is the local stand-in.
 */
const invokeHealth = async (module: string, environment: Record<string, string>, nodeArgs: string[] = []) => {
  const script = `const { handler } = await import(${JSON.stringify(module)});
const response = await handler(${JSON.stringify(proxyEvent({ method: 'GET', path: '/v1/health' }))}, { functionName: 'health', awsRequestId: 'r1', getRemainingTimeInMillis: () => 25_000 });
console.log('RESPONSE ' + JSON.stringify(response));`;
  const { stdout } = await run(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`,
      REGISTRY_TABLE_NAME: 'registry',
      BASIC_AUTH_SECRET_ID: 'basic',
      CREDENTIAL_POLICY: JSON.stringify({ defaultType: 'API_KEY' }),
      USAGE_PLAN_IDS: 'plan01',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      ...environment,
    },
  });
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('RESPONSE '));
  return JSON.parse(line!.slice('RESPONSE '.length)) as { statusCode: number; body: string };
};

const signedBy = (headers: IncomingHttpHeaders | undefined) => /Credential=([A-Z0-9]+)\//.exec(headers?.authorization ?? '')?.[1];

describe('the deployed bundles', () => {
  it('leave out the default credential chain and keep the environment provider', () => {
    // Act
    const packages = new Set(Object.keys(metafile.inputs).map((input) => /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(input)?.[1]));

    // Assess: neither the chain nor the links and clients (STS, SSO, …) only it imports.
    expect(packages).toContain('@aws-sdk/credential-provider-env');
    for (const left of [
      'credential-provider-node',
      'credential-provider-ini',
      'credential-provider-sso',
      'credential-provider-process',
      'credential-provider-web-identity',
      'credential-provider-http',
      'credential-provider-login',
      'nested-clients',
    ]) {
      expect(packages).not.toContain(`@aws-sdk/${left}`);
    }
    expect(packages).not.toContain('@smithy/credential-provider-imds');
  });

  it('sign AWS calls with the execution role credentials Lambda puts in the environment', async () => {
    // Prepare
    secretsManager.requests.length = 0;

    // Act
    const response = await invokeHealth(join(assetDir, 'index.mjs'), { ...roleCredentials, HOME: homeWithProfile() });

    // Assess
    expect(response.statusCode).toBe(204);
    expect(secretsManager.requests).toHaveLength(1);
    expect(signedBy(secretsManager.requests[0])).toBe(roleCredentials.AWS_ACCESS_KEY_ID);
    expect(secretsManager.requests[0]?.['x-amz-security-token']).toBe(roleCredentials.AWS_SESSION_TOKEN);
  }, 30_000);

  it('look nowhere else for credentials: without them in the environment the call fails before reaching AWS', async () => {
    // Prepare
    secretsManager.requests.length = 0;

    // Act
    const response = await invokeHealth(join(assetDir, 'index.mjs'), { HOME: homeWithProfile() });

    // Assess: the profile the full chain would use is ignored; the webhook says it cannot check credentials.
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    expect(secretsManager.requests).toHaveLength(0);
  }, 30_000);
});

describe('local commands and tests, which run the source', () => {
  it('keep the full default chain: the same function finds the profile in ~/.aws', async () => {
    // Prepare
    secretsManager.requests.length = 0;

    // Act
    const response = await invokeHealth(join(repoRoot, 'lambda/handlers/health.ts'), { HOME: homeWithProfile() }, ['--import', 'tsx']);

    // Assess
    expect(response.statusCode).toBe(204);
    expect(signedBy(secretsManager.requests[0])).toBe('PROFILEKEYIDEXAMPLE01');
  }, 30_000);
});
