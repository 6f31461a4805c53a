/**
 * Fetches an access token with the OAuth 2.0 client credentials grant and prints it as JSON,
 * so developers can try the credentials the portal gave them:
 *
 *   CLIENT_SECRET=… portal-credentials fetch-token --token-url URL --client-id ID [--scope "a/b c/d"] [--auth basic|post]
 *
 * The secret is read from the environment, never from an argument, so it stays out of
 * shell history and `ps` listings. Exit codes: 0 token printed, 1 request failed, 2 wrong usage.
 */
import { type CliOutput, EXIT_FAILED, EXIT_OK, EXIT_USAGE, isEntryPoint, parseOrExit, processOutput } from './cli.ts';

import { parseArgs } from 'node:util';
import { outputsOfStackFlag, type StackOutputs, stackOption } from './stack-outputs.ts';
import {
  fetchClientCredentialsToken,
  TokenClientConfigurationError,
  TokenClientError,
  type AccessToken,
  type ClientAuthMethod,
} from './token-client.ts';

export { EXIT_OK, EXIT_USAGE };

export const USAGE = `Usage: CLIENT_SECRET=<secret> portal-credentials fetch-token --token-url <url> --client-id <id> [options]
       CLIENT_SECRET=<secret> portal-credentials fetch-token --stack <stack> --client-id <id> [options]

Fetches an access token with the OAuth 2.0 client credentials grant and prints it as one JSON
document on stdout (always; --json is accepted for symmetry with the other commands).

Options:
  --token-url <url>    Token endpoint, e.g. https://<domain>.auth.<region>.amazoncognito.com/oauth2/token
  --stack <name>       The deployment's CloudFormation stack: its output TokenUrl gives --token-url
  --region <region>    AWS Region of the stack (default: AWS_REGION or your profile's)
  --client-id <id>     App client id
  --scope <scopes>     Space-separated scopes, e.g. "orders/read orders/write" (default: all the client may use)
  --auth basic|post    Client authentication: HTTP Basic header (default) or form body
  --json               Print the token as JSON (the default, and the only format)
  -h, --help           Show this help

Environment:
  CLIENT_SECRET        App client secret (read from the environment so it stays out of shell history and ps)

Exit codes: 0 token printed, 1 the request failed, 2 wrong usage.
`;

/** Runs the command and returns its exit code; never throws. */
export async function main(args: readonly string[], env: NodeJS.ProcessEnv, output: CliOutput = processOutput): Promise<number> {
  const stack = await outputsOfStackFlag(args, env, output);
  if ('exitCode' in stack) return stack.exitCode;
  const parsed = parseOrExit<TokenRequest>(() => parseCommandLine(args, env, stack.outputs), USAGE, output);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { request } = parsed;

  try {
    const token = await fetchClientCredentialsToken(request);
    output.stdout(`${JSON.stringify(toTokenJson(token), null, 2)}\n`);
    return EXIT_OK;
  } catch (error) {
    output.stderr(`error: ${describeFailure(error, request.clientSecret)}\n`);
    // A bad URL is a usage error too, though only the token client can tell.
    return error instanceof TokenClientConfigurationError ? EXIT_USAGE : EXIT_FAILED;
  }
}

interface TokenRequest {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string | undefined;
  authMethod: ClientAuthMethod;
}

const AUTH_METHODS: Record<string, ClientAuthMethod> = { basic: 'client_secret_basic', post: 'client_secret_post' };

/** Throws an Error whose message is meant for the user. */
function parseCommandLine(args: readonly string[], env: NodeJS.ProcessEnv, outputs: StackOutputs): TokenRequest | 'help' {
  const { values } = parseArgs({
    args: [...args],
    options: {
      ...stackOption,
      region: { type: 'string' },
      json: { type: 'boolean' },
      'token-url': { type: 'string' },
      'client-id': { type: 'string' },
      scope: { type: 'string' },
      auth: { type: 'string', default: 'basic' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';

  const tokenUrl = values['token-url'] ?? outputs.TokenUrl;
  const clientId = values['client-id'];
  if (!tokenUrl) throw new Error('--token-url is required (or --stack)');
  if (!clientId) throw new Error('--client-id is required');
  const authMethod = AUTH_METHODS[values.auth];
  if (!authMethod) throw new Error(`--auth must be "basic" or "post", not "${values.auth}"`);
  const clientSecret = env.CLIENT_SECRET;
  if (!clientSecret) throw new Error('set the client secret in the CLIENT_SECRET environment variable');
  return { tokenUrl, clientId, clientSecret, scope: values.scope, authMethod };
}

/** The token response fields a developer needs, in the wire names of RFC 6749 §5.1. */
function toTokenJson(token: AccessToken): Record<string, unknown> {
  return { access_token: token.accessToken, token_type: token.tokenType, expires_in: token.expiresIn, scope: token.scope };
}

/** Token client errors are written for people and already redacted; anything else is scrubbed here. */
function describeFailure(error: unknown, secret: string): string {
  if (error instanceof TokenClientError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `unexpected failure: ${message.replaceAll(secret, '[redacted]')}`;
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
