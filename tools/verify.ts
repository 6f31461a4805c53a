/**
 * Proves a deployment works end to end, as the walk-through in docs/platform-teams.md does by hand: health with
 * the Basic pair, demo credentials of each type, calls to the sample API with the key and with a
 * token, updates whose effect the sample API shows, revoke, and the revoked credentials refused.
 * With the --far-… flags the key is asked for an API in another place too (another Region or
 * account), and the sample API there must admit the same key value, and refuse it once revoked.
 * Cleans up whatever it asked for, and says what each clean-up step really answered.
 *
 *   portal-credentials verify --stack NAME
 *
 * Exit codes: 0 every step passed, 1 a step failed (named on stderr), 2 wrong usage,
 * 4 clean-up left credentials behind (each named with the command that removes it).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type CliOutput, EXIT_FAILED, EXIT_LEFTOVERS, EXIT_OK, isEntryPoint, parseOrExit, processOutput, writeJson } from './cli.ts';
import { outputsOfStackFlag, type StackOutputs, stackOption } from './stack-outputs.ts';

export const USAGE = `Usage: portal-credentials verify --stack <stack> [options]
       portal-credentials verify --url <webhook url> --sample-url <sample api url> --sample-plan-id <id> [options]

Runs the walk-through against a deployment: health, an API key and client credentials for the
sample API, a call with each, updates whose effect the sample API must show (the key moved off
its plan is refused, then admitted again on it; the client narrowed to fewer scopes is refused),
a revoke, and proof the revoked credentials are refused. Each step is printed with its timing.
Whatever was asked for is revoked at the end even if a step fails, retried a few times; each
clean-up step's real answer is printed, and what is left behind is named with the command that
removes it.

Options (with --stack, the stack's outputs give each value; a flag overrides its output):
  --stack <name>              The deployment's CloudFormation stack
  --url <url>                 WebhookUrl
  --secret-id <arn>           BasicAuthSecretArn: the Basic pair is read from it
                              (or set WEBHOOK_USERNAME and WEBHOOK_PASSWORD instead)
  --sample-url <url>          SampleApiUrl
  --sample-plan-id <id>       SampleUsagePlanId
  --sample-api-id <id>        SampleApiId: the REST API id API keys are asked for (default: SampleApiUrl's first label)
  --other-plan-id <id>        Where the update moves the key: a plan of the sample API serving another stage, so
                              the sample API must refuse the key. Without it the key's update is skipped (said so)
  --payments-api-id <id>      The API id the policy serves with client credentials (default: sample-payments);
                              "none" skips client credentials
  --scope <scope>             The scope GET /payments requires (default: portal-sample/payments.read)
  --narrow-api-id <id>        An API the policy serves with client credentials whose scopes lack --scope: the
                              update narrows the client to it. Without it the client's update is skipped (said so)
  --far-api-id <id>           An API the policy places in another Region or account (served with API keys): the
                              key is asked for it and the sample API together, so the developer holds one key value
                              in two places. Give the three --far flags together, or none
  --far-plan-id <id>          A usage plan of that API, as the portal names it (the plan's own id)
  --far-sample-url <url>      That API's sample in its place: GET orders there must admit the key's one value, and
                              refuse it once revoked
  --propagation-seconds <n>   How long to retry while a change takes effect (default 60)
  --region <region>           AWS Region for CloudFormation and Secrets Manager (default: AWS_REGION or your profile's)
  --json                      Print the result as one JSON document on stdout; the steps go to stderr
  -h, --help                  Show this help

Exit codes: 0 every step passed, 1 a step failed, 2 wrong usage, 4 clean-up left credentials behind.
`;

interface VerifyRequest {
  url: string;
  secretId?: string;
  sampleUrl: string;
  samplePlanId: string;
  sampleApiId: string;
  otherPlanId?: string;
  paymentsApiId?: string;
  narrowApiId?: string;
  /** An API key API in another place, its plan and its sample API: the key must work there too. */
  far?: { apiId: string; planId: string; sampleUrl: string };
  scope: string;
  json: boolean;
  propagationMs: number;
  region?: string;
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

const parseCommandLine = (args: readonly string[], outputs: StackOutputs): VerifyRequest | 'help' => {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...stackOption,
      url: { type: 'string' },
      'other-plan-id': { type: 'string' },
      'narrow-api-id': { type: 'string' },
      'far-api-id': { type: 'string' },
      'far-plan-id': { type: 'string' },
      'far-sample-url': { type: 'string' },
      json: { type: 'boolean', default: false },
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
  const fromStack = {
    url: values.url ?? outputs.WebhookUrl,
    'sample-url': values['sample-url'] ?? outputs.SampleApiUrl,
    'sample-plan-id': values['sample-plan-id'] ?? outputs.SampleUsagePlanId,
  };
  for (const flag of ['url', 'sample-url', 'sample-plan-id'] as const) if (!fromStack[flag]) throw new Error(`--${flag} is required (or --stack)`);
  const url = withSlash(fromStack.url as string);
  const sampleUrl = withSlash(fromStack['sample-url'] as string);
  const secretId = values['secret-id'] ?? outputs.BasicAuthSecretArn;
  for (const [flag, value] of [
    ['--url', url],
    ['--sample-url', sampleUrl],
  ])
    if (!URL.canParse(value as string)) throw new Error(`${flag} is not a URL`);
  const farFlags = [values['far-api-id'], values['far-plan-id'], values['far-sample-url']];
  if (farFlags.some((value) => value !== undefined) && !farFlags.every((value) => value)) {
    throw new Error('--far-api-id, --far-plan-id and --far-sample-url go together: give all three, or none');
  }
  const [farApiId, farPlanId, farSampleUrl] = farFlags.map((value) => value ?? '') as [string, string, string];
  if (farSampleUrl && !URL.canParse(farSampleUrl)) throw new Error('--far-sample-url is not a URL');
  const seconds = Number(values['propagation-seconds']);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 600) throw new Error('--propagation-seconds must be a whole number from 0 to 600');
  return {
    url,
    sampleUrl,
    samplePlanId: fromStack['sample-plan-id'] as string,
    sampleApiId: values['sample-api-id'] ?? outputs.SampleApiId ?? new URL(sampleUrl).hostname.split('.')[0] ?? '',
    ...(values['other-plan-id'] ? { otherPlanId: values['other-plan-id'] } : {}),
    ...(values['payments-api-id'] === 'none' ? {} : { paymentsApiId: values['payments-api-id'] }),
    ...(values['narrow-api-id'] ? { narrowApiId: values['narrow-api-id'] } : {}),
    ...(farApiId ? { far: { apiId: farApiId, planId: farPlanId, sampleUrl: withSlash(farSampleUrl) } } : {}),
    scope: values.scope,
    json: values.json,
    propagationMs: seconds * 1000,
    ...(secretId ? { secretId } : {}),
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
    // The secret holds the Basic pairs, or (with bearer tokens or API keys too) an object whose `basic` holds them.
    const parsed = JSON.parse(SecretString ?? 'null') as unknown;
    const basic = parsed && typeof parsed === 'object' && 'basic' in parsed ? (parsed as { basic: unknown }).basic : parsed;
    const pairs = [basic].flat() as { username?: string; password?: string }[];
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

/** How a step ended; `skip` is said out loud, never passed off as `ok`. */
type StepOutcome = 'ok' | 'FAIL' | 'skip';

/** One demo app's clean-up, as the webhook answered it. */
interface CleanUp {
  appSlug: string;
  credentialType: 'API_KEY' | 'CLIENT_CREDENTIALS';
  outcome: 'revoked' | 'FAILED';
  attempts: number;
  detail: string;
  /** How to remove it by hand when clean-up failed. */
  command?: string;
}

/** Clean-up is retried this many times, a little longer apart each time, before a leftover is reported. */
const CLEAN_UP_ATTEMPTS = 3;
const CLEAN_UP_BACKOFF_MS = 1000;

/** Runs the command and returns its exit code; never throws. */
export const main = async (args: readonly string[], env: NodeJS.ProcessEnv = process.env, output: CliOutput = processOutput): Promise<number> => {
  const stack = await outputsOfStackFlag(args, env, output);
  if ('exitCode' in stack) return stack.exitCode;
  const parsed = parseOrExit(() => parseCommandLine(args, stack.outputs), USAGE, output);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { request } = parsed;
  // With --json the steps are progress (stderr); without it they are the report (stdout).
  const report = request.json ? output.stderr : output.stdout;
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
  // With --far-…, every request for the key names the far API too: each update keeps the key in both places.
  const keyRequest = (usagePlanIds: string[]) => ({
    appName: `Verify ${run} key`,
    appSlug: apps.key,
    developer: 'verify@example.com',
    apis: [
      { id: request.sampleApiId, usagePlans: usagePlanIds.map((id) => ({ id })) },
      ...(request.far ? [{ id: request.far.apiId, usagePlans: [{ id: request.far.planId }] }] : []),
    ],
  });
  const clientRequest = (apiId: string) => ({
    appName: `Verify ${run} client`,
    appSlug: apps.client,
    developer: 'verify@example.com',
    apis: [{ id: apiId, usagePlans: [] }],
  });
  let key: { apiKeyId: string; apiKey: string } | undefined;
  let client: { clientId: string; clientSecret: string; tokenUrl: string } | undefined;
  // What was asked for (a create that failed may still have made something) and what a revoke removed.
  const askedFor = new Set<'API_KEY' | 'CLIENT_CREDENTIALS'>();
  const revoked = new Set<'API_KEY' | 'CLIENT_CREDENTIALS'>();

  const fetchToken = (id: string, secret: string, tokenUrl: string) =>
    fetch(tokenUrl, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: request.scope }),
      signal: AbortSignal.timeout(10_000),
    });
  const orders = (apiKey: string) => fetch(`${request.sampleUrl}orders`, { headers: { 'x-api-key': apiKey }, signal: AbortSignal.timeout(10_000) });
  const ordersAnswer = async () => (await orders(key?.apiKey ?? '')).status;
  /** What GET orders of the far place's sample answers the key: that place's own key, made with the same value. */
  const farOrdersAnswer = async () =>
    (await fetch(`${request.far?.sampleUrl}orders`, { headers: { 'x-api-key': key?.apiKey ?? '' }, signal: AbortSignal.timeout(10_000) })).status;
  /** Whether GET payments admits a token of the client holding --scope: false when the token endpoint or the API refuses. */
  const paymentsAdmitClient = async () => {
    const { clientId, clientSecret, tokenUrl } = client as NonNullable<typeof client>;
    const token = await fetchToken(clientId, clientSecret, tokenUrl);
    if (token.status !== 200) return false;
    const { access_token: accessToken } = (await token.json()) as { access_token: string };
    return (
      (await fetch(`${request.sampleUrl}payments`, { headers: { Authorization: accessToken }, signal: AbortSignal.timeout(10_000) })).status === 200
    );
  };
  const revoke = async (credentialType: 'API_KEY' | 'CLIENT_CREDENTIALS', body: Record<string, string>, what: string) => {
    await expectStatus(await webhook('revokeCredentials', { credentialType, ...body }), 204, what);
    revoked.add(credentialType);
  };

  type Step = [string, () => Promise<void>] | [string, 'skip', string];
  const steps: Step[] = [
    [
      'read the Basic pair',
      async () => {
        const pair = await readBasicPair(request, env);
        authorization = `Basic ${Buffer.from(`${pair.username}:${pair.password}`).toString('base64')}`;
      },
    ],
    ['health', async () => expectStatus(await webhook('health'), 204, 'GET v1/health')],
    [
      request.far ? 'create an API key for APIs in two places' : 'create an API key',
      async () => {
        askedFor.add('API_KEY');
        const response = await webhook('createCredentials', keyRequest([request.samplePlanId]));
        await expectStatus(response, 200, 'createCredentials');
        key = (await response.json()) as typeof key;
      },
    ],
    [
      'call the sample API with the key',
      async () => until(request.propagationMs, async () => (await ordersAnswer()) === 200, 'GET orders never accepted the new key'),
    ],
    ...farSteps('call the far sample API with the same key', 'GET orders of the far sample API never accepted the key'),
    ...keyUpdateSteps(),
    ...clientSteps(),
    [
      'revoke',
      async () => {
        await revoke('API_KEY', { apiKeyId: key?.apiKeyId ?? '' }, 'revokeCredentials (API key)');
        if (client) await revoke('CLIENT_CREDENTIALS', { clientId: client.clientId }, 'revokeCredentials (client)');
      },
    ],
    [
      'the revoked credentials are refused',
      async () => {
        await until(request.propagationMs, async () => (await ordersAnswer()) === 403, 'GET orders still accepts the revoked key');
        if (request.far) {
          await until(
            request.propagationMs,
            async () => (await farOrdersAnswer()) === 403,
            'GET orders of the far sample API still accepts the revoked key',
          );
        }
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

  /** The far place's sample admits the key (one value in both places), when --far-… gave one. */
  function farSteps(name: string, failure: string): Step[] {
    if (!request.far) return [];
    return [[name, async () => until(request.propagationMs, async () => (await farOrdersAnswer()) === 200, failure)]];
  }

  /** The key moved to a plan of another stage must be refused, then admitted again back on its plan: the update's effect, seen. */
  function keyUpdateSteps(): Step[] {
    const otherPlanId = request.otherPlanId;
    if (!otherPlanId) return [['update the API key', 'skip', 'give --other-plan-id to move the key and see the sample API refuse it']];
    const update = (usagePlanId: string) => async () =>
      expectStatus(
        await webhook('updateCredentials', { ...keyRequest([usagePlanId]), credentialType: 'API_KEY', apiKeyId: key?.apiKeyId }),
        204,
        'updateCredentials',
      );
    return [
      [`update the API key: move it off the sample plan, to plan ${otherPlanId}`, update(otherPlanId)],
      [
        'the sample plan no longer admits the key',
        async () => until(request.propagationMs, async () => (await ordersAnswer()) === 403, 'GET orders still accepts the key moved off its plan'),
      ],
      ['update the API key: back onto the sample plan', update(request.samplePlanId)],
      [
        'the sample API admits the key again',
        async () => until(request.propagationMs, async () => (await ordersAnswer()) === 200, 'GET orders never accepted the key back on its plan'),
      ],
      ...farSteps('the far sample API still admits the key', 'GET orders of the far sample API no longer accepts the key after the updates'),
    ];
  }

  function clientSteps(): Step[] {
    const paymentsApiId = request.paymentsApiId;
    if (!paymentsApiId) return [];
    const narrowApiId = request.narrowApiId;
    return [
      [
        'create client credentials',
        async () => {
          askedFor.add('CLIENT_CREDENTIALS');
          const response = await webhook('createCredentials', clientRequest(paymentsApiId));
          await expectStatus(response, 200, 'createCredentials');
          const body = (await response.json()) as { clientId: string; clientSecret: string; customCredentials?: { tokenUrl?: string } };
          if (!body.customCredentials?.tokenUrl) throw new StepFailed('the answer names no token URL');
          client = { clientId: body.clientId, clientSecret: body.clientSecret, tokenUrl: body.customCredentials.tokenUrl };
        },
      ],
      [
        'call the sample API with a token',
        async () => until(request.propagationMs, paymentsAdmitClient, 'GET payments never accepted a token of the new client'),
      ],
      ...((narrowApiId
        ? [
            [
              `update the client credentials: narrow them to API ${narrowApiId}'s scopes`,
              async () =>
                expectStatus(
                  await webhook('updateCredentials', {
                    ...clientRequest(narrowApiId),
                    credentialType: 'CLIENT_CREDENTIALS',
                    clientId: client?.clientId,
                  }),
                  204,
                  'updateCredentials',
                ),
            ],
            [
              `the narrowed client no longer gets ${request.scope} past GET payments`,
              async () =>
                until(request.propagationMs, async () => !(await paymentsAdmitClient()), `GET payments still accepts the narrowed client's token`),
            ],
          ]
        : [['update the client credentials', 'skip', 'give --narrow-api-id to narrow the client and see the sample API refuse it']]) as Step[]),
    ];
  }

  const results: { name: string; outcome: StepOutcome; ms: number; detail?: string }[] = [];
  let failed: string | undefined;
  const started = Date.now();
  for (const step of steps) {
    const [name, work, reason] = step;
    if (work === 'skip') {
      report(`skip  ${name}: ${reason}\n`);
      results.push({ name, outcome: 'skip', ms: 0, detail: reason });
      continue;
    }
    const at = Date.now();
    try {
      await work();
      report(`ok    ${name} (${Date.now() - at} ms)\n`);
      results.push({ name, outcome: 'ok', ms: Date.now() - at });
    } catch (error) {
      const detail = error instanceof StepFailed ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
      report(`FAIL  ${name} (${Date.now() - at} ms): ${detail}\n`);
      results.push({ name, outcome: 'FAIL', ms: Date.now() - at, detail });
      failed = name;
      break;
    }
  }

  // Clean up whatever was asked for and not yet revoked, whichever step failed: revoke is idempotent, and its 204 is true.
  const cleanUps: CleanUp[] = [];
  for (const [credentialType, appSlug] of [
    ['API_KEY', apps.key],
    ['CLIENT_CREDENTIALS', apps.client],
  ] as const) {
    if (!askedFor.has(credentialType) || revoked.has(credentialType)) continue;
    const cleanUp = await revokeWithRetries(webhook, credentialType, appSlug);
    if (cleanUp.outcome === 'FAILED') cleanUp.command = removalCommand(request.url, credentialType, appSlug);
    report(
      cleanUp.outcome === 'revoked'
        ? `      clean-up: revoked ${appSlug} (${cleanUp.detail})\n`
        : `      clean-up FAILED: ${appSlug} may still exist (${cleanUp.detail})\n`,
    );
    cleanUps.push(cleanUp);
  }
  if (failed && askedFor.size === 0) report('      clean-up: nothing to clean up, no credential was asked for\n');
  const leftovers = cleanUps.filter((cleanUp) => cleanUp.outcome === 'FAILED');
  report(`${failed ? 'failed' : 'passed'} in ${Date.now() - started} ms\n`);
  if (request.json) {
    writeJson(output, {
      passed: !failed && leftovers.length === 0,
      ...(failed ? { failedStep: failed } : {}),
      steps: results,
      cleanUp: cleanUps,
      leftovers: leftovers.map(({ appSlug, credentialType, command }) => ({ appSlug, credentialType, command })),
      ms: Date.now() - started,
    });
  }
  if (failed) output.stderr(`error: the step "${failed}" failed\n`);
  if (leftovers.length > 0) {
    output.stderr(
      `error: clean-up left ${leftovers.length} demo credential(s) behind; with WEBHOOK_USERNAME and WEBHOOK_PASSWORD set to the Basic pair, remove each with:\n${leftovers
        .map((leftover) => `  ${leftover.command}\n`)
        .join('')}`,
    );
    return EXIT_LEFTOVERS;
  }
  return failed ? EXIT_FAILED : EXIT_OK;
};

/** Revokes one demo app by its slug, a bounded number of times, and says what the last answer was. */
const revokeWithRetries = async (
  webhook: (route: string, body?: unknown) => Promise<Response>,
  credentialType: CleanUp['credentialType'],
  appSlug: string,
): Promise<CleanUp> => {
  let detail = '';
  for (let attempt = 1; attempt <= CLEAN_UP_ATTEMPTS; attempt++) {
    try {
      const response = await webhook('revokeCredentials', { credentialType, appSlug });
      if (response.status === 204)
        return { appSlug, credentialType, outcome: 'revoked', attempts: attempt, detail: `revokeCredentials answered 204, attempt ${attempt}` };
      const body = await response.text().catch(() => '');
      let code = '';
      try {
        code = (JSON.parse(body) as { code?: string }).code ?? '';
      } catch {}
      detail = `revokeCredentials answered ${response.status}${code ? ` ${code}` : ''}`;
      // A wrong Basic pair will not be right on the next try.
      if (response.status === 401 || response.status === 403) return { appSlug, credentialType, outcome: 'FAILED', attempts: attempt, detail };
    } catch (error) {
      detail = `revokeCredentials failed: ${(error as Error).name}`;
    }
    if (attempt < CLEAN_UP_ATTEMPTS) await sleep(CLEAN_UP_BACKOFF_MS * attempt);
  }
  return { appSlug, credentialType, outcome: 'FAILED', attempts: CLEAN_UP_ATTEMPTS, detail: `${detail}, ${CLEAN_UP_ATTEMPTS} attempts` };
};

/** The revoke to run by hand: through the webhook, so the registry and AWS stay in step. */
const removalCommand = (url: string, credentialType: CleanUp['credentialType'], appSlug: string) =>
  `curl -sS -u "$WEBHOOK_USERNAME:$WEBHOOK_PASSWORD" -H 'Content-Type: application/json' -d '${JSON.stringify({ credentialType, appSlug })}' ${url}v1/revokeCredentials`;

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
