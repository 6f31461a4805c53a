import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparableTemplate } from '../../helpers/templates.ts';
import { buildStack, cdkJson, testEnv } from '../../helpers/webhook-stack.ts';
import { consumerLockfile } from './consumer-lock.ts';

const run = promisify(execFile);
const repoRoot = new URL('../../../', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const settings = cdkJson.context.portalCredentialsWebhook as { credentialPolicy: object };

/** A platform team's own CDK app, in plain JavaScript: the construct from the package, cdk.json's settings. */
const consumerApp = `import { App, Stack } from 'aws-cdk-lib';
import { addWebhookOutputs, PortalCredentialsWebhook } from '${manifest.name}';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Webhook', { env: ${JSON.stringify(testEnv)} });
const webhook = PortalCredentialsWebhook.fromSettings(stack, 'Webhook', ${JSON.stringify(settings)});
addWebhookOutputs(stack, webhook);
app.synth();
`;

/** The same app in TypeScript, checked against the package's declarations with the repository's tsc. */
const typedConsumerApp = `import { App, Duration, Stack } from 'aws-cdk-lib';
import { addWebhookOutputs, PortalCredentialsWebhook, type PortalCredentialsWebhookProps, type SettingsInput } from '${manifest.name}';

const settings: SettingsInput = { credentialPolicy: { defaultType: 'API_KEY' }, throttling: { rateLimit: 2 } };
const props: PortalCredentialsWebhookProps = { claimWait: Duration.seconds(10), sampleApi: true };
const stack = new Stack(new App(), 'Typed');
addWebhookOutputs(stack, PortalCredentialsWebhook.fromSettings(stack, 'FromSettings', settings));
const webhook: PortalCredentialsWebhook = new PortalCredentialsWebhook(stack, 'FromProps', props);
export const url: string = webhook.url;
`;

let workDir: string;
let appDir: string;

beforeAll(async () => {
  // Prepare: the tarball as npm would publish it (prepack builds dist/, postpack removes it), outside the repository.
  workDir = mkdtempSync(join(tmpdir(), 'packed-package-'));
  await run('npm', ['pack', '--pack-destination', workDir, '--silent', '--loglevel=error'], { cwd: repoRoot });
  const tarball = readdirSync(workDir).find((file) => file.endsWith('.tgz'))!;

  // A fresh app that installs it offline, every tarball from npm's cache, as this repository's lock pins them.
  appDir = join(workDir, 'app');
  mkdirSync(appDir);
  const { packageJson, lockfile } = consumerLockfile(join(repoRoot, 'package-lock.json'), {
    name: manifest.name,
    version: manifest.version,
    file: `../${tarball}`,
    manifest: manifest as never,
  });
  writeFileSync(join(appDir, 'package.json'), JSON.stringify(packageJson, null, 2));
  writeFileSync(join(appDir, 'package-lock.json'), JSON.stringify(lockfile, null, 2));
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: appDir });
}, 150_000);

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('the packed package, installed offline in a fresh CDK app', () => {
  it("synthesizes the same resources, policies and outputs as this repository's app for the same settings", async () => {
    // Prepare
    writeFileSync(join(appDir, 'app.mjs'), consumerApp);

    // Act: no tsx, no esbuild, no Docker, nothing of this repository: the package's prebuilt code only.
    await run(process.execPath, ['app.mjs'], { cwd: appDir, env: { PATH: process.env.PATH } });

    // Assess
    const theirs = comparableTemplate(JSON.parse(readFileSync(join(appDir, 'cdk.out', 'Webhook.template.json'), 'utf8')));
    const ours = comparableTemplate(buildStack({ bundle: false, stackName: 'Webhook', env: testEnv }).app.synth().getStackByName('Webhook').template);
    expect(Object.keys(theirs.Resources).sort()).toEqual(Object.keys(ours.Resources).sort());
    expect(theirs.Resources).toEqual(ours.Resources);
    expect(theirs.Outputs).toEqual(ours.Outputs);
  }, 60_000);

  it('stages each function from the prebuilt bundle with the credential policy beside it, and the bundle starts', async () => {
    // Prepare
    writeFileSync(join(appDir, 'app.mjs'), consumerApp);
    await run(process.execPath, ['app.mjs'], { cwd: appDir, env: { PATH: process.env.PATH } });
    const assets = JSON.parse(readFileSync(join(appDir, 'cdk.out', 'Webhook.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const functionAssets = Object.values(assets.files)
      .filter((file) => file.source.packaging === 'zip')
      .map((file) => join(appDir, 'cdk.out', file.source.path));

    // Act: a cold start of one of them, as Lambda imports it.
    const health = functionAssets.find(
      (dir) =>
        readFileSync(join(dir, 'index.mjs'), 'utf8').includes('AUTH_UNAVAILABLE') &&
        !readFileSync(join(dir, 'index.mjs'), 'utf8').includes('CreateApiKey'),
    )!;
    const start = run(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(health, 'index.mjs'))}); console.log(typeof m.handler);`],
      {
        env: {
          PATH: process.env.PATH,
          AWS_REGION: testEnv.region,
          REGISTRY_TABLE_NAME: 'registry',
          BASIC_AUTH_SECRET_ID: 'secret',
          USAGE_PLAN_IDS: 'plan01',
          USER_POOL_ID: 'eu-west-1_Pool1',
          TOKEN_URL: 'https://auth.example.com/oauth2/token',
        },
      },
    );

    // Assess: six functions (four routes, the audit and the history's stream consumer), each with cdk.json's policy beside its bundle.
    expect(functionAssets).toHaveLength(6);
    for (const dir of functionAssets) {
      expect(readdirSync(dir).sort()).toEqual(['credential-policy.json', 'index.mjs', 'index.mjs.map']);
      expect(JSON.parse(readFileSync(join(dir, 'credential-policy.json'), 'utf8'))).toMatchObject(settings.credentialPolicy);
    }
    expect((await start).stdout.trim()).toBe('function');
  }, 60_000);

  it("type-checks a TypeScript consumer against the package's declarations", async () => {
    // Prepare
    writeFileSync(join(appDir, 'typed-app.ts'), typedConsumerApp);
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const options = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];

    // Act + Assess: no output, exit 0.
    await expect(
      run(process.execPath, [tsc, ...options, '--typeRoots', join(repoRoot, 'node_modules', '@types'), '--types', 'node', 'typed-app.ts'], {
        cwd: appDir,
      }),
    ).resolves.toMatchObject({ stdout: '' });
  }, 60_000);

  it('runs the portal-credentials command from the prebuilt CLI: --help, and a subcommand doing its work', async () => {
    // Prepare: a token endpoint answering the client credentials grant.
    const tokenEndpoint = createServer((request, response) => {
      request.resume().on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ access_token: 'token-from-the-endpoint', token_type: 'bearer', expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => tokenEndpoint.listen(0, '127.0.0.1', resolve));
    const bin = join(appDir, 'node_modules', '.bin', 'portal-credentials');
    const tokenUrl = `http://127.0.0.1:${(tokenEndpoint.address() as AddressInfo).port}/oauth2/token`;

    try {
      // Act
      const help = await run(bin, ['--help'], { cwd: appDir });
      const subcommandHelps = await Promise.all(
        ['audit', 'history', 'verify', 'fetch-token', 'rotate-client-secret'].map((command) => run(bin, [command, '--help'], { cwd: appDir })),
      );
      const token = await run(bin, ['fetch-token', '--token-url', tokenUrl, '--client-id', 'client1', '--json'], {
        cwd: appDir,
        env: { PATH: process.env.PATH, CLIENT_SECRET: 'not-a-real-secret' },
      });

      // Assess: no tsx in the consumer's app, yet every command answers.
      expect(help.stdout).toMatch(/^Usage: portal-credentials <command>/);
      for (const { stdout } of subcommandHelps) expect(stdout).toMatch(/Usage: .*portal-credentials /);
      expect(JSON.parse(token.stdout)).toMatchObject({ access_token: 'token-from-the-endpoint', token_type: 'bearer' });
    } finally {
      tokenEndpoint.close();
    }
  }, 60_000);
});
