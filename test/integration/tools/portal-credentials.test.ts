import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run, USAGE } from '../../../tools/portal-credentials.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const { webhook, post } = await startWebhookForTests();
/** An operator's shell: the Region, credentials and endpoints `npm start` prints, nothing of the functions' environment. */
const operatorEnvironment = {
  HOME: process.env.HOME,
  PATH: `${root}node_modules/.bin:${process.env.PATH}`,
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => /^AWS_(REGION|ACCESS_KEY_ID|SECRET_ACCESS_KEY|ENDPOINT_URL\w*)$/.test(name))),
};

/** Runs a command line as docs/operators.md shows it, in a shell from the checkout, with the project's bins first on the PATH. */
const shell = (line: string) =>
  new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('sh', ['-c', line], { cwd: root, env: operatorEnvironment });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => void (stdout += chunk));
    child.stderr.on('data', (chunk) => void (stderr += chunk));
    child.on('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr }));
  });

const captured = () => {
  const streams = { stdout: '', stderr: '' };
  return {
    streams,
    output: { stdout: (text: string) => void (streams.stdout += text), stderr: (text: string) => void (streams.stderr += text) },
  };
};

describe('portal-credentials: one executable, its subcommands alike', () => {
  it.each(['audit', 'history', 'verify', 'fetch-token', 'rotate-client-secret'])(
    '%s --help prints its usage and exit codes on stdout and exits 0',
    async (name) => {
      // Prepare
      const { streams, output } = captured();

      // Act
      const exitCode = await run([name, '--help'], {}, { output });

      // Assess
      expect(exitCode).toBe(0);
      expect(streams.stdout).toMatch(new RegExp(`^Usage: (CLIENT_SECRET=<secret> )?portal-credentials ${name} `));
      expect(streams.stdout).toMatch(/Exit codes: 0 /);
      expect(streams.stdout).toContain('--stack <name>');
      expect(streams.stderr).toBe('');
    },
  );

  it('answers an unknown command, or none, with its usage on stderr and exit code 2', async () => {
    // Prepare
    const { streams, output } = captured();

    // Act
    const unknown = await run(['audti'], {}, { output });
    const none = await run([], {}, { output });

    // Assess
    expect([unknown, none]).toEqual([2, 2]);
    expect(streams.stdout).toBe('');
    expect(streams.stderr).toContain(`error: unknown command "audti"\n\n${USAGE}`);
  });

  it('exits 1 naming the stack and Region when --stack names no stack', async () => {
    // Prepare
    const { streams, output } = captured();

    // Act
    const exitCode = await run(['audit', '--stack', 'NoSuchStack'], process.env, { output });

    // Assess
    expect(exitCode).toBe(1);
    expect(streams.stderr).toContain('error: could not read stack NoSuchStack: no stack NoSuchStack in us-east-1: check --stack and --region');
  });

  it('prints exactly one JSON document on stdout as docs/operators.md runs it, through npm run --silent and through the bin', {
    timeout: 60_000,
  }, async () => {
    // Prepare
    await post('/v1/createCredentials', {
      appName: 'JSON app',
      appSlug: 'json-app',
      developer: 'dev@example.com',
      apis: [{ id: '5aba4csvd4', usagePlans: [{ id: '1el57v' }] }],
    });
    await webhook.historyStream.drained();

    // Act
    const viaNpm = await shell(`npm run --silent history -- json-app --stack ${webhook.stackName} --json`);
    const viaBin = await shell(`npx portal-credentials history json-app --stack ${webhook.stackName} --json`);

    // Assess
    for (const printed of [viaNpm, viaBin]) {
      expect(printed.exitCode).toBe(0);
      expect(JSON.parse(printed.stdout)).toEqual([expect.objectContaining({ action: 'CREATE', appKey: 'json-app' })]);
    }
  });
});
