/**
 * Proves a deployment works end to end, as the README's walk-through does by hand: health with
 * the Basic pair, demo credentials of each type, calls to the sample API with the key and with a
 * token, update, revoke, and the revoked credentials refused. Cleans up even when a step fails.
 *
 *   npm run verify -- --url <WebhookUrl> --secret-id <BasicAuthSecretArn> --sample-url <SampleApiUrl> --sample-plan-id <id>
 *
 * Exit codes: 0 every step passed, 1 a step failed (named on stderr), 2 wrong usage.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type CliOutput, EXIT_FAILED, EXIT_OK, isEntryPoint, parseOrExit, processOutput } from './cli.ts';

export const USAGE = `Usage: npm run verify -- --url <webhook url> --sample-url <sample api url> --sample-plan-id <id> [options]

Runs the walk-through against a deployment: health, an API key and client credentials for the
sample API, a call with each, an update, a revoke, and proof the revoked credentials are refused.
Each step is printed with its timing; the demo apps are revoked at the end even if a step fails.

Options (the stack's outputs give each value):
  --url <url>                 WebhookUrl
  --secret-id <arn>           BasicAuthSecretArn: the Basic pair is read from it
                              (or set WEBHOOK_USERNAME and WEBHOOK_PASSWORD instead)
  --sample-url <url>          SampleApiUrl
  --sample-plan-id <id>       SampleUsagePlanId
  --sample-api-id <id>        The REST API id API keys are asked for (default: SampleApiUrl's first label)
  --payments-api-id <id>      The API id the policy serves with client credentials (default: sample-payments);
                              "none" skips client credentials
  --scope <scope>             The scope GET /payments requires (default: portal-sample/payments.read)
  --propagation-seconds <n>   How long to retry while a new or revoked credential takes effect (default 60)
  --region <region>           AWS Region for Secrets Manager (default: AWS_REGION or your profile's)
  -h, --help                  Show this help
`;

interface VerifyRequest {
  url: string;
  secretId?: string;
  sampleUrl: string;
  samplePlanId: string;
  sampleApiId: string;
  paymentsApiId?: string;
  scope: string;
  propagationMs: number;
  region?: string;
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

const parseCommandLine = (args: readonly string[]): VerifyRequest | 'help' => {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      url: { type: 'string' },
      'secret-id': { type: 'string' },
      'sample-url': { type: 'string' },
      'sample-plan-id': { type: 'string' },
      'sample-api-id': { type: 'string' },
      'payments-api-id': { type: 'string', default: 'sample-payments' },
      scope: { type: 'string', default: 'portal-sample/payments.read' },
      'propagation-seconds': { type: 'string', default: '60' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  for (const flag of ['url', 'sample-url', 'sample-plan-id'] as const) if (!values[flag]) throw new Error(`--${flag} is required`);
  const url = withSlash(values.url as string);
  const sampleUrl = withSlash(values['sample-url'] as string);
  for (const [flag, value] of [
    ['--url', url],
    ['--sample-url', sampleUrl],
  ])
    if (!URL.canParse(value as string)) throw new Error(`${flag} is not a URL`);
  const seconds = Number(values['propagation-seconds']);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 600) throw new Error('--propagation-seconds must be a whole number from 0 to 600');
  return {
    url,
    sampleUrl,
    samplePlanId: values['sample-plan-id'] as string,
    sampleApiId: values['sample-api-id'] ?? new URL(sampleUrl).hostname.split('.')[0] ?? '',
    ...(values['payments-api-id'] === 'none' ? {} : { paymentsApiId: values['payments-api-id'] }),
    scope: values.scope,
    propagationMs: seconds * 1000,
    ...(values['secret-id'] ? { secretId: values['secret-id'] } : {}),
    ...(values.region ? { region: values.region } : {}),
  };
};

/** A step that failed, with what was expected; never a secret. */
class StepFailed extends Error {}

const expectStatus = async (response: Response, status: number, what: string) => {
  if (response.status !== status) {
    const body = await response.text().catch(() => '');
    let code = '';
    try {
      code = (JSON.parse(body) as { code?: string }).code ?? '';
    } catch {}
    throw new StepFailed(`${what} answered ${response.status}${code ? ` ${code}` : ''}, expected ${status}`);
  }
};

/** Retries `attempt` until it answers true or the time is up: new keys take seconds to be accepted. */
const until = async (deadlineMs: number, attempt: () => Promise<boolean>, failure: string) => {
  const giveUpAt = Date.now() + deadlineMs;
  for (;;) {
    if (await attempt()) return;
    if (Date.now() >= giveUpAt) throw new StepFailed(failure);
    await sleep(1000);
  }
};

const readBasicPair = async (request: VerifyRequest, env: NodeJS.ProcessEnv) => {
  if (env.WEBHOOK_USERNAME && env.WEBHOOK_PASSWORD) return { username: env.WEBHOOK_USERNAME, password: env.WEBHOOK_PASSWORD };
  if (!request.secretId) throw new StepFailed('no Basic pair: give --secret-id, or set WEBHOOK_USERNAME and WEBHOOK_PASSWORD');
  const secrets = new SecretsManagerClient(request.region ? { region: request.region } : {});
  try {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: request.secretId }));
    const pairs = [JSON.parse(SecretString ?? 'null')].flat() as { username?: string; password?: string }[];
    const pair = pairs.at(-1);
    if (!pair?.username || !pair.password) throw new StepFailed('the secret holds no {"username","password"} pair');
    return { username: pair.username, password: pair.password };
  } catch (error) {
    if (error instanceof StepFailed) throw error;
    throw new StepFailed(`could not read the secret (${(error as Error).name}): check --secret-id, --region and your AWS credentials`);
  } finally {
    secrets.destroy();
  }
};

/** Runs the command and returns its exit code; never throws. */
export const main = async (args: readonly string[], env: NodeJS.ProcessEnv = process.env, output: CliOutput = processOutput): Promise<number> => {
  const parsed = parseOrExit(() => parseCommandLine(args), USAGE, output);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { request } = parsed;
  const run = `verify-${randomBytes(4).toString('hex')}`;
  const apps = { key: `${run}-key`, client: `${run}-client` };
  let authorization = '';
  const webhook = (route: string, body?: unknown) =>
    fetch(`${request.url}v1/${route}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: authorization, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  const keyRequest = {
    appName: `Verify ${run} key`,
    appSlug: apps.key,
    developer: 'verify@example.com',
    apis: [{ id: request.sampleApiId, usagePlans: [{ id: request.samplePlanId }] }],
  };
  const clientRequest = request.paymentsApiId && {
    appName: `Verify ${run} client`,
    appSlug: apps.client,
    developer: 'verify@example.com',
    apis: [{ id: request.paymentsApiId, usagePlans: [] }],
  };
  let key: { apiKeyId: string; apiKey: string } | undefined;
  let client: { clientId: string; clientSecret: string; tokenUrl: string } | undefined;

  const fetchToken = (id: string, secret: string, tokenUrl: string) =>
    fetch(tokenUrl, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: request.scope }),
      signal: AbortSignal.timeout(10_000),
    });
  const orders = (apiKey: string) => fetch(`${request.sampleUrl}orders`, { headers: { 'x-api-key': apiKey }, signal: AbortSignal.timeout(10_000) });

  const steps: [string, () => Promise<void>][] = [
    [
      'read the Basic pair',
      async () => {
        const pair = await readBasicPair(request, env);
        authorization = `Basic ${Buffer.from(`${pair.username}:${pair.password}`).toString('base64')}`;
      },
    ],
    ['health', async () => expectStatus(await webhook('health'), 204, 'GET v1/health')],
    [
      'create an API key',
      async () => {
        const response = await webhook('createCredentials', keyRequest);
        await expectStatus(response, 200, 'createCredentials');
        key = (await response.json()) as typeof key;
      },
    ],
    [
      'call the sample API with the key',
      async () => until(request.propagationMs, async () => (await orders(key?.apiKey ?? '')).status === 200, 'GET orders never accepted the new key'),
    ],
    [
      'update the API key',
      async () =>
        expectStatus(
          await webhook('updateCredentials', { ...keyRequest, credentialType: 'API_KEY', apiKeyId: key?.apiKeyId }),
          204,
          'updateCredentials',
        ),
    ],
    ...(clientRequest
      ? ([
          [
            'create client credentials',
            async () => {
              const response = await webhook('createCredentials', clientRequest);
              await expectStatus(response, 200, 'createCredentials');
              const body = (await response.json()) as { clientId: string; clientSecret: string; customCredentials?: { tokenUrl?: string } };
              if (!body.customCredentials?.tokenUrl) throw new StepFailed('the answer names no token URL');
              client = { clientId: body.clientId, clientSecret: body.clientSecret, tokenUrl: body.customCredentials.tokenUrl };
            },
          ],
          [
            'call the sample API with a token',
            async () => {
              const { clientId, clientSecret, tokenUrl } = client as NonNullable<typeof client>;
              await until(
                request.propagationMs,
                async () => {
                  const token = await fetchToken(clientId, clientSecret, tokenUrl);
                  if (token.status !== 200) return false;
                  const { access_token: accessToken } = (await token.json()) as { access_token: string };
                  return (
                    (await fetch(`${request.sampleUrl}payments`, { headers: { Authorization: accessToken }, signal: AbortSignal.timeout(10_000) }))
                      .status === 200
                  );
                },
                'GET payments never accepted a token of the new client',
              );
            },
          ],
          [
            'update the client credentials',
            async () =>
              expectStatus(
                await webhook('updateCredentials', { ...clientRequest, credentialType: 'CLIENT_CREDENTIALS', clientId: client?.clientId }),
                204,
                'updateCredentials',
              ),
          ],
        ] as [string, () => Promise<void>][])
      : []),
    [
      'revoke',
      async () => {
        await expectStatus(
          await webhook('revokeCredentials', { credentialType: 'API_KEY', apiKeyId: key?.apiKeyId }),
          204,
          'revokeCredentials (API key)',
        );
        if (client)
          await expectStatus(
            await webhook('revokeCredentials', { credentialType: 'CLIENT_CREDENTIALS', clientId: client.clientId }),
            204,
            'revokeCredentials (client)',
          );
      },
    ],
    [
      'the revoked credentials are refused',
      async () => {
        await until(request.propagationMs, async () => (await orders(key?.apiKey ?? '')).status === 403, 'GET orders still accepts the revoked key');
        if (client) {
          const { clientId, clientSecret, tokenUrl } = client;
          await until(
            request.propagationMs,
            async () => [400, 401].includes((await fetchToken(clientId, clientSecret, tokenUrl)).status),
            'the token endpoint still accepts the revoked client',
          );
        }
      },
    ],
  ];

  let failed: string | undefined;
  const started = Date.now();
  for (const [name, step] of steps) {
    const at = Date.now();
    try {
      await step();
      output.stdout(`ok    ${name} (${Date.now() - at} ms)\n`);
    } catch (error) {
      const reason = error instanceof StepFailed ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
      output.stdout(`FAIL  ${name} (${Date.now() - at} ms): ${reason}\n`);
      failed = name;
      break;
    }
  }
  // Clean up whatever was made, whichever step failed: revoke is idempotent.
  if (failed && authorization) {
    for (const [type, appSlug] of [
      ['API_KEY', apps.key],
      ['CLIENT_CREDENTIALS', apps.client],
    ] as const) {
      await webhook('revokeCredentials', { credentialType: type, appSlug }).catch(() => undefined);
    }
    output.stdout(`      cleaned up: revoked ${apps.key} and ${apps.client}\n`);
  }
  output.stdout(`${failed ? 'failed' : 'passed'} in ${Date.now() - started} ms\n`);
  if (failed) {
    output.stderr(`error: the step "${failed}" failed\n`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
};

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
