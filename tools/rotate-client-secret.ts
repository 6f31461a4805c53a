/**
 * Rotates the secret of an app client the webhook created, without downtime: Cognito lets
 * a client hold two secrets at once, so the developer can switch before the old one goes.
 *
 *   portal-credentials rotate-client-secret list   --stack NAME --client-id ID [--region R]
 *   portal-credentials rotate-client-secret add    --stack NAME --client-id ID [--region R]
 *   portal-credentials rotate-client-secret retire --stack NAME --client-id ID --keep SECRET_ID [--region R]
 *
 * Every step first checks the client is one of the webhook's (`portal-…`, client_credentials)
 * and touches nothing otherwise. Data goes to stdout as JSON, guidance to stderr; a secret value
 * is printed once, by `add`, to stdout only. Exit codes: 0 done, 1 refused or AWS failed, 2 wrong usage.
 * The SDK honours AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, AWS_REGION, AWS_PROFILE as usual.
 */
import { type CliOutput, EXIT_FAILED, EXIT_OK, EXIT_USAGE, isEntryPoint, parseOrExit, processOutput } from './cli.ts';

import { parseArgs } from 'node:util';
import { outputsOfStackFlag, type StackOutputs, stackOption } from './stack-outputs.ts';
import {
  AddUserPoolClientSecretCommand,
  CognitoIdentityProviderClient,
  DeleteUserPoolClientSecretCommand,
  DescribeUserPoolClientCommand,
  ListUserPoolClientSecretsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { awsClientSettings } from '#clients/retry-settings';
import { userPoolIdPattern } from '#commons/config';
import { isNetworkError } from '#commons/network-errors';

export { EXIT_FAILED, EXIT_OK, EXIT_USAGE };

/** Every app client the webhook creates is named so (see `resourceName` in lambda/provisioning/provisioner.ts). */
export const WEBHOOK_CLIENT_PREFIX = 'portal-';
/** Cognito keeps at most this many secrets per app client. */
export const MAX_SECRETS_PER_CLIENT = 2;

export const STEPS = ['list', 'add', 'retire'] as const;
export type Step = (typeof STEPS)[number];

export const USAGE = `Usage: portal-credentials rotate-client-secret <step> --stack <stack> --client-id <id> [options]
       portal-credentials rotate-client-secret <step> --user-pool-id <id> --client-id <id> [options]

Rotates the secret of an app client the webhook created, with both secrets valid in between.

Steps:
  list                 Show the client's secrets: ids and creation dates, never values
  add                  Add a second secret and print its value once, as JSON on stdout
  retire --keep <id>   Delete every secret of the client except <id>

Options:
  --stack <name>       The deployment's CloudFormation stack: its output UserPoolId gives --user-pool-id
  --user-pool-id <id>  User pool id, e.g. us-east-1_AbCdEfGhI
  --client-id <id>     App client id (the credential id the portal shows)
  --keep <id>          retire only: the secret id to keep (from add or list)
  --region <region>    AWS Region (default: AWS_REGION or your AWS profile's)
  --json               Print the result as JSON (the default, and the only format: one document on stdout)
  -h, --help           Show this help

Rotation: add, give the new secret to the developer, wait until they use it, then retire --keep <new id>.
Only app clients named ${WEBHOOK_CLIENT_PREFIX}… with the client_credentials flow are touched.

Exit codes: 0 done, 1 refused or AWS failed, 2 wrong usage.
`;

/** The app client a step works on. */
export interface AppClientRef {
  userPoolId: string;
  clientId: string;
}

/** A secret as `list` shows it: never its value. */
export interface ClientSecretSummary {
  clientSecretId: string;
  /** ISO 8601, when Cognito says. */
  createdAt?: string;
}

/** The secret `add` made; its value can never be read again. */
export interface AddedClientSecret {
  clientSecretId: string;
  clientSecret: string;
}

export interface RetireOutcome {
  kept: string;
  /** Ids deleted by this run; empty when only the kept secret was left. */
  retired: string[];
}

/** The step would be unsafe or impossible; nothing was changed. The message is for the operator. */
export class RotationRefusedError extends Error {
  override readonly name = 'RotationRefusedError';
}

/** An AWS call failed; says which one, and keeps the SDK error as the cause. */
export class AwsCallError extends Error {
  override readonly name = 'AwsCallError';
  readonly awsErrorName: string;
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    const awsErrorName = cause instanceof Error ? cause.name : 'Error';
    super(`${operation} failed with ${awsErrorName}`, { cause });
    this.awsErrorName = awsErrorName;
  }
}

/** Runs one AWS command, naming the operation in any failure. */
async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new AwsCallError(operation, error);
  }
}

/**
 * Refuses (RotationRefusedError) unless the app client is one the webhook created: named
 * `portal-…` and allowed the client_credentials flow. Returns its name.
 */
export async function assertWebhookClient(cognito: CognitoIdentityProviderClient, ref: AppClientRef): Promise<string> {
  const { UserPoolClient: client } = await call('DescribeUserPoolClient', () =>
    cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: ref.userPoolId, ClientId: ref.clientId })),
  );
  // The answer also carries the client's secret: only the name and flows are read from it.
  const name = client?.ClientName ?? '';
  if (!name.startsWith(WEBHOOK_CLIENT_PREFIX)) {
    throw new RotationRefusedError(
      `app client ${ref.clientId} is named "${name}", not ${WEBHOOK_CLIENT_PREFIX}…: the webhook did not create it, so this tool leaves it alone`,
    );
  }
  if (!client?.AllowedOAuthFlows?.includes('client_credentials')) {
    throw new RotationRefusedError(
      `app client ${ref.clientId} (${name}) does not have the client_credentials flow: it is not a webhook credential, so this tool leaves it alone`,
    );
  }
  return name;
}

/** The client's secrets, oldest first, without the guard. */
async function readSecrets(cognito: CognitoIdentityProviderClient, ref: AppClientRef): Promise<ClientSecretSummary[]> {
  const secrets: ClientSecretSummary[] = [];
  let nextToken: string | undefined;
  // Cognito documents a single page (two secrets at most); follow a token anyway, a bounded number of times.
  for (let page = 0; page < 10; page++) {
    const { ClientSecrets, NextToken } = await call('ListUserPoolClientSecrets', () =>
      cognito.send(
        new ListUserPoolClientSecretsCommand({ UserPoolId: ref.userPoolId, ClientId: ref.clientId, ...(nextToken ? { NextToken: nextToken } : {}) }),
      ),
    );
    for (const secret of ClientSecrets ?? []) {
      if (!secret.ClientSecretId) continue;
      // Copy the id and date only: a value, should one ever come back, is dropped here.
      secrets.push({
        clientSecretId: secret.ClientSecretId,
        ...(secret.ClientSecretCreateDate ? { createdAt: secret.ClientSecretCreateDate.toISOString() } : {}),
      });
    }
    nextToken = NextToken;
    if (!nextToken) break;
  }
  return secrets.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
}

/** `list`: the webhook client's secrets, oldest first; ids and creation dates only. */
export async function listClientSecrets(cognito: CognitoIdentityProviderClient, ref: AppClientRef): Promise<ClientSecretSummary[]> {
  await assertWebhookClient(cognito, ref);
  return readSecrets(cognito, ref);
}

/**
 * `add`: adds a Cognito-generated second secret and returns its value, which nobody can read
 * again. Refuses when the client already has two: the previous rotation must be finished first.
 */
export async function addClientSecret(cognito: CognitoIdentityProviderClient, ref: AppClientRef): Promise<AddedClientSecret> {
  await assertWebhookClient(cognito, ref);
  const existing = await readSecrets(cognito, ref);
  if (existing.length >= MAX_SECRETS_PER_CLIENT) {
    const newest = existing.at(-1)?.clientSecretId;
    throw new RotationRefusedError(
      `app client ${ref.clientId} already has ${existing.length} secrets (${existing.map((s) => s.clientSecretId).join(', ')}): ` +
        `finish the previous rotation first: once the developer uses the new secret, run retire --keep <its id> (the newest is ${newest})`,
    );
  }
  const { ClientSecretDescriptor: added } = await call('AddUserPoolClientSecret', () =>
    cognito.send(new AddUserPoolClientSecretCommand({ UserPoolId: ref.userPoolId, ClientId: ref.clientId })),
  );
  if (!added?.ClientSecretId || !added.ClientSecretValue) {
    throw new RotationRefusedError(
      `Cognito added a secret to app client ${ref.clientId} but did not return its ${added?.ClientSecretId ? 'value' : 'id'}: ` +
        `run list, then retire --keep <the older id> to remove it, and add again`,
    );
  }
  return { clientSecretId: added.ClientSecretId, clientSecret: added.ClientSecretValue };
}

/**
 * `retire`: deletes every secret of the client but `keepSecretId`. Refuses when that id is not
 * one of the client's secrets; does nothing when it is the only one left.
 */
export async function retireClientSecrets(cognito: CognitoIdentityProviderClient, ref: AppClientRef, keepSecretId: string): Promise<RetireOutcome> {
  await assertWebhookClient(cognito, ref);
  const secrets = await readSecrets(cognito, ref);
  if (!secrets.some((secret) => secret.clientSecretId === keepSecretId)) {
    throw new RotationRefusedError(
      `secret ${keepSecretId} is not one of app client ${ref.clientId}'s secrets (${secrets.map((s) => s.clientSecretId).join(', ') || 'none'}): ` +
        `nothing was deleted; run list and pass the id of the secret the developer uses now`,
    );
  }
  const retired: string[] = [];
  for (const { clientSecretId } of secrets) {
    if (clientSecretId === keepSecretId) continue;
    await call('DeleteUserPoolClientSecret', () =>
      cognito.send(new DeleteUserPoolClientSecretCommand({ UserPoolId: ref.userPoolId, ClientId: ref.clientId, ClientSecretId: clientSecretId })),
    );
    retired.push(clientSecretId);
  }
  return { kept: keepSecretId, retired };
}

interface StepRequest extends AppClientRef {
  step: Step;
  keep: string | undefined;
  region: string | undefined;
}

/** Runs the command and returns its exit code; never throws. */
export async function main(args: readonly string[], env: NodeJS.ProcessEnv = process.env, output: CliOutput = processOutput): Promise<number> {
  const stack = await outputsOfStackFlag(args, env, output);
  if ('exitCode' in stack) return stack.exitCode;
  const parsed = parseOrExit<StepRequest>(() => parseCommandLine(args, stack.outputs), USAGE, output);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { request } = parsed;

  const region = request.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const cognito = new CognitoIdentityProviderClient({ ...awsClientSettings, ...(region ? { region } : {}) });
  let newSecret: string | undefined;
  try {
    switch (request.step) {
      case 'list': {
        const secrets = await listClientSecrets(cognito, request);
        output.stdout(`${JSON.stringify({ clientId: request.clientId, secrets }, null, 2)}\n`);
        if (secrets.length >= MAX_SECRETS_PER_CLIENT) {
          output.stderr(
            `note: a rotation is in progress: once the developer uses the new secret, run retire --keep <its id> (the newest is ${secrets.at(-1)?.clientSecretId})\n`,
          );
        }
        break;
      }
      case 'add': {
        const added = await addClientSecret(cognito, request);
        newSecret = added.clientSecret;
        output.stdout(`${JSON.stringify({ clientSecretId: added.clientSecretId, clientSecret: added.clientSecret }, null, 2)}\n`);
        output.stderr(
          `note: this is the only time the new secret can be read. Both secrets work now. Give it to the developer through the portal or another secure channel; ` +
            `once they use it, run retire --keep ${added.clientSecretId}\n`,
        );
        break;
      }
      case 'retire': {
        const outcome = await retireClientSecrets(cognito, request, request.keep as string);
        output.stdout(`${JSON.stringify(outcome, null, 2)}\n`);
        if (outcome.retired.length === 0) output.stderr(`note: ${outcome.kept} was already the only secret; nothing to retire\n`);
        break;
      }
    }
    return EXIT_OK;
  } catch (error) {
    output.stderr(`${describeFailure(error, newSecret)}\n`);
    return EXIT_FAILED;
  } finally {
    cognito.destroy();
  }
}

const CLIENT_ID = /^[\w+]+$/;

/** Throws an Error whose message is meant for the user. */
function parseCommandLine(args: readonly string[], outputs: StackOutputs): StepRequest | 'help' {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...stackOption,
      json: { type: 'boolean' },
      'user-pool-id': { type: 'string' },
      'client-id': { type: 'string' },
      keep: { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';

  if (positionals.length !== 1) throw new Error(`give exactly one step (${STEPS.join(', ')})`);
  const step = positionals[0] as Step;
  if (!STEPS.includes(step)) throw new Error(`unknown step "${step}": use ${STEPS.join(', ')}`);
  const userPoolId = values['user-pool-id'] ?? outputs.UserPoolId;
  const clientId = values['client-id'];
  if (!userPoolId) throw new Error('--user-pool-id is required (or --stack)');
  if (!userPoolIdPattern.test(userPoolId)) throw new Error(`--user-pool-id "${userPoolId}" is not a user pool id (like us-east-1_AbCdEfGhI)`);
  if (!clientId) throw new Error('--client-id is required');
  if (!CLIENT_ID.test(clientId)) throw new Error(`--client-id "${clientId}" is not an app client id`);
  if (step === 'retire' && !values.keep) throw new Error('retire needs --keep <secret id>: the secret the developer uses now');
  if (step !== 'retire' && values.keep !== undefined) throw new Error(`--keep belongs to retire, not ${step}`);
  if (values.region === '') throw new Error('--region is empty');
  return { step, userPoolId, clientId, keep: values.keep, region: values.region };
}

/** What to check, by AWS error name; the operation narrows a few. */
function hintFor(awsErrorName: string, operation: string): string {
  switch (awsErrorName) {
    case 'ResourceNotFoundException':
      return 'check --user-pool-id, --client-id and --region (the app client may have been revoked)';
    case 'TooManyRequestsException':
    case 'ThrottlingException':
      return 'Cognito throttled the request even after retries; wait a minute and run the same step again';
    case 'LimitExceededException':
      return operation === 'AddUserPoolClientSecret'
        ? 'the client has as many secrets as Cognito allows; run list, then finish the previous rotation with retire'
        : 'a Cognito limit was reached; wait and run the same step again';
    case 'InvalidParameterException':
      return operation === 'DeleteUserPoolClientSecret'
        ? "Cognito refused to delete the secret (a client's last secret can't be deleted); run list to see what is left"
        : 'Cognito rejected a parameter; check the ids you passed';
    case 'NotAuthorizedException':
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
      return `check your AWS credentials, and that they allow cognito-idp:${operation} on this user pool`;
    case 'InternalServerException':
    case 'InternalErrorException':
      return 'Cognito failed internally; run the same step again (run list first after a failed add or retire)';
    case 'CredentialsProviderError':
      return 'no AWS credentials found; set AWS_PROFILE or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables';
    case 'TimeoutError':
      return 'Cognito did not answer in time; check the network, the Region and AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER if set';
    default:
      return operation === 'AddUserPoolClientSecret' || operation === 'DeleteUserPoolClientSecret'
        ? 'check the ids, the Region and your AWS credentials; run list to see the current state before retrying'
        : 'check the ids, the Region and your AWS credentials';
  }
}

/** One line, never a stack trace; the new secret, if one was made, is scrubbed from it. */
function describeFailure(error: unknown, secret: string | undefined): string {
  let line: string;
  if (error instanceof RotationRefusedError) {
    line = `refused: ${error.message}`;
  } else if (error instanceof AwsCallError) {
    const cause = error.cause as { message?: unknown } | undefined;
    const awsMessage = typeof cause?.message === 'string' && cause.message && cause.message !== error.awsErrorName ? ` (${cause.message})` : '';
    const regionMissing = typeof cause?.message === 'string' && /region is missing/i.test(cause.message);
    const unreachable = isNetworkError(cause);
    const hint = regionMissing
      ? 'pass --region or set AWS_REGION'
      : unreachable
        ? 'could not reach Cognito; check the network, --region and AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER if set'
        : hintFor(error.awsErrorName, error.operation);
    line = `error: ${error.operation} failed with ${error.awsErrorName}${awsMessage}: ${hint}`;
  } else {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    line = `error: unexpected failure: ${name}: ${message}`;
  }
  const oneLine = line.replace(/\s+/g, ' ').trim();
  return secret ? oneLine.replaceAll(secret, '[redacted]') : oneLine;
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
