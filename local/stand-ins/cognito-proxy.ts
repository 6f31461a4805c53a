/**
 * A proxy in front of cognito-local (awsJson1_1: `POST /` with `X-Amz-Target:
 * AWSCognitoIdentityProviderService.<Operation>`) that enforces the app-client rules
 * cognito-local lacks, and injects faults for tests the way the control-plane stand-in does.
 *
 * Rules enforced, with Cognito's own error (API reference, CreateUserPoolClient /
 * UpdateUserPoolClient): `ClientName` 1 to 128 characters matching `[\w\s+=,.@-]+`, and at
 * most 50 `AllowedOAuthScopes` (the quota "scopes per app client"); otherwise 400
 * `InvalidParameterException`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Fault, FaultQueue } from './faults-and-throttles.ts';

export interface CognitoProxy {
  /** Endpoint for the SDK, e.g. http://127.0.0.1:PORT. */
  url: string;
  /** Requests per operation name, including failed ones. */
  calls(): Record<string, number>;
  /** The next `times` (default 1) calls of `operation` suffer `fault`. */
  injectFault(operation: string, fault: Fault, times?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
const JSON_1_1 = 'application/x-amz-json-1.1';
const MAX_CLIENT_NAME_LENGTH = 128;
const CLIENT_NAME_PATTERN = /^[\w\s+=,.@-]+$/;
const MAX_SCOPES_PER_CLIENT = 50;

export async function startCognitoProxy(cognitoLocalUrl: string): Promise<CognitoProxy> {
  const calls = new Map<string, number>();
  const faults = new FaultQueue();
  const shutdown = new AbortController();

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      console.error('cognito-proxy: unexpected failure', error);
      res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    calls.set(operation, (calls.get(operation) ?? 0) + 1);

    const fault = faults.take(operation);
    if (fault?.kind === 'reset') return void req.socket.destroy();
    if (fault?.kind === 'delay') {
      const aborted = await sleep(fault.delayMs, false, { signal: shutdown.signal }).catch(() => true);
      if (aborted) return;
    }
    if (fault?.kind === 'error')
      return answerError(res, fault.status, fault.errorType, fault.message ?? `Injected ${fault.errorType} for ${operation}`);

    const refusal = ['CreateUserPoolClient', 'UpdateUserPoolClient'].includes(operation) ? appClientRefusal(body) : undefined;
    if (refusal) return answerError(res, 400, 'InvalidParameterException', refusal);

    const answer = await fetch(`${cognitoLocalUrl}${req.url ?? '/'}`, {
      method: req.method,
      headers: { 'content-type': String(req.headers['content-type'] ?? JSON_1_1), 'x-amz-target': target },
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
    });
    const text = await answer.text();
    if (fault?.kind === 'drop-answer') return void req.socket.destroy();
    if (fault?.kind === 'hang-answer') {
      const aborted = await sleep(fault.delayMs, false, { signal: shutdown.signal }).catch(() => true);
      if (aborted || req.socket.destroyed) return;
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? JSON_1_1, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => Object.fromEntries(calls),
    injectFault: (operation, fault, times = 1) => faults.inject(operation, fault, times),
    clearFaults: () => faults.clear(),
    close: async () => {
      shutdown.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Why Cognito would refuse this app-client configuration, if it would. */
function appClientRefusal(body: string): string | undefined {
  let input: { ClientName?: unknown; AllowedOAuthScopes?: unknown };
  try {
    input = JSON.parse(body) as typeof input;
  } catch {
    return undefined; // cognito-local answers malformed bodies itself
  }
  const name = input.ClientName;
  if (typeof name === 'string' && (name.length < 1 || name.length > MAX_CLIENT_NAME_LENGTH || !CLIENT_NAME_PATTERN.test(name))) {
    return `1 validation error detected: Value at 'clientName' failed to satisfy constraint: Member must have length less than or equal to ${MAX_CLIENT_NAME_LENGTH} and match pattern [\\w\\s+=,.@-]+`;
  }
  if (Array.isArray(input.AllowedOAuthScopes) && input.AllowedOAuthScopes.length > MAX_SCOPES_PER_CLIENT) {
    return `1 validation error detected: Value at 'allowedOAuthScopes' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SCOPES_PER_CLIENT}`;
  }
  return undefined;
}

function answerError(res: ServerResponse, status: number, errorType: string, message: string): void {
  const payload = JSON.stringify({ __type: errorType, message });
  res.writeHead(status, { 'content-type': JSON_1_1, 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
