import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { APIGatewayClient, CreateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { afterAll, describe, expect, it } from 'vitest';
import { appKeyTag, deploymentTag, managedByTag, managedByValue } from '#provisioning/api-key-provisioner';
import { issuerKey, startTokenIssuer } from '../../helpers/token-issuer.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** As `npm run` runs things: the project's own Node (node_modules/.bin/node) and bins first on the PATH. */
const environment = { ...process.env, PATH: `${root}node_modules/.bin:${process.env.PATH}` };

/** Runs one line in a shell, as an operator pastes it; stdout, stderr and the exit code. */
const shell = (line: string) =>
  new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('sh', ['-c', line], { cwd: root, env: environment });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => void (stdout += chunk));
    child.stderr.on('data', (chunk) => void (stderr += chunk));
    child.on('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr }));
  });

/** `npm start` (its script, tsx local/start.ts) until its banner is printed; the banner. */
const startLocally = (env: NodeJS.ProcessEnv) =>
  new Promise<{ child: ChildProcess; banner: string }>((resolve, reject) => {
    const child = spawn('tsx', ['local/start.ts'], { cwd: root, env: { ...environment, ...env } });
    let banner = '';
    child.stdout.on('data', (chunk) => {
      banner += chunk;
      if (banner.includes('Ctrl-C stops it')) resolve({ child, banner });
    });
    child.on('exit', (code) => reject(new Error(`npm start exited with ${code} before its banner: ${banner}`)));
  });

const issuer = await startTokenIssuer('https://issuer.example.test');
const signingKey = await issuerKey('k1');
issuer.publish(signingKey);
const { child, banner } = await startLocally({
  PORT: '0',
  AUTH_SCHEMES: 'basic,jwt',
  JWT_ISSUER: issuer.issuer,
  JWT_JWKS_URL: issuer.jwksUrl,
  JWT_CLIENT_IDS: 'caller-app',
  LOG_LEVEL: 'SILENT',
});
afterAll(async () => {
  child.kill('SIGTERM');
  await issuer.close();
});

const printed = (label: string) => {
  const line = new RegExp(`^ {2}${label}: +(.+)$`, 'm').exec(banner)?.[1];
  if (!line) throw new Error(`npm start printed no ${label} line:\n${banner}`);
  return line;
};
const webhookUrl = /listening on (\S+)/.exec(banner)?.[1] as string;

describe('npm start prints operator commands that work against the local stack, as printed', () => {
  it('prints one line each for audit, history and verify, found from the local stack', () => {
    for (const label of ['Audit', 'History', 'Verify'])
      expect(printed(label)).toMatch(/npx portal-credentials \w+ .*--stack portal-credentials-local$/);
  });

  it('audits the local stack clean, and with --json prints exactly one JSON document on stdout', { timeout: 60_000 }, async () => {
    // Act
    const text = await shell(printed('Audit'));
    const json = await shell(`${printed('Audit')} --json`);

    // Assess
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('No drift: the registry and AWS agree.');
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ report: { drift: [] } });
  });

  it("audits as deployment `local`: a local key the registry does not hold is the deployment's orphan, not foreign", {
    timeout: 60_000,
  }, async () => {
    // Prepare: a key as the local functions tag theirs, which the registry never recorded.
    const endpoint = /AWS_ENDPOINT_URL=(\S+)/.exec(printed('Audit'))?.[1];
    const apiGateway = new APIGatewayClient({ region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, endpoint });
    const { id } = await apiGateway.send(
      new CreateApiKeyCommand({
        name: 'portal-orphan-app',
        enabled: true,
        tags: { [managedByTag]: managedByValue, [appKeyTag]: 'orphan-app', [deploymentTag]: 'local' },
      }),
    );
    apiGateway.destroy();

    // Act
    const audit = await shell(`${printed('Audit')} --json`);

    // Assess
    expect(audit.exitCode).toBe(3);
    const { report } = JSON.parse(audit.stdout);
    expect(report.drift).toEqual([expect.objectContaining({ kind: 'ORPHAN', credentialId: id })]);
    expect(report.foreign.map((credential: { credentialId: string }) => credential.credentialId)).not.toContain(id);
  });

  it('prints the history of an app as one JSON document', { timeout: 60_000 }, async () => {
    // Act
    const history = await shell(`${printed('History')} --json`);

    // Assess
    expect(history.exitCode).toBe(0);
    expect(JSON.parse(history.stdout)).toEqual([]);
  });

  it('verifies the local stack end to end, in two Regions, the Basic pair read from the stack’s secret', { timeout: 120_000 }, async () => {
    // Act
    const verify = await shell(printed('Verify'));

    // Assess
    expect(verify.exitCode).toBe(0);
    expect(verify.stdout).toMatch(/^passed in \d+ ms$/m);
    expect(verify.stdout).not.toMatch(/^skip/m);
    // The printed line names the sample API of eu-west-1 too: one key value, admitted there and refused there once revoked.
    expect(verify.stdout).toMatch(/^ok {4}create an API key for APIs in two places/m);
    expect(verify.stdout).toMatch(/^ok {4}call the far sample API with the same key/m);
  });
});

describe('npm start with JWT_ISSUER, JWT_JWKS_URL and JWT_CLIENT_IDS set', () => {
  it('trusts that issuer’s tokens instead of the local token endpoint’s', async () => {
    // Prepare
    const token = await issuer.mint(signingKey, { client_id: 'caller-app' });

    // Act
    const health = await fetch(`${webhookUrl}/v1/health`, { headers: { Authorization: `Bearer ${token}` } });

    // Assess
    expect(health.status).toBe(204);
    expect(banner).toContain(`OAuth 2.0 access tokens of ${issuer.issuer} (from JWT_ISSUER, JWT_JWKS_URL, JWT_CLIENT_IDS)`);
  });
});
