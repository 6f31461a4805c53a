/**
 * Runs `cognito-local` (npm) as a child process: a local Cognito user-pool API that the
 * unmodified `@aws-sdk/client-cognito-identity-provider` talks to with `endpoint: url`
 * (or `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`).
 *
 * Why a child process rather than in-process: cognito-local reads HOST and PORT from the
 * environment when its modules load and keeps its state in `.cognito/` under the working
 * directory, so each instance gets its own environment and a fresh temporary directory.
 *
 * Known gaps against Cognito (5.3.0), relevant to app clients:
 * - UpdateUserPoolClient keeps fields the request omits; Cognito resets them to defaults.
 * - ListUserPoolClients ignores MaxResults/NextToken and returns full client descriptions,
 *   secrets included; Cognito returns only ClientId, ClientName and UserPoolId, in pages.
 * - No validation of OAuth settings: a client without a secret may allow client_credentials,
 *   and scopes need no resource server.
 * - No resource servers, user-pool domains, client-secret rotation
 *   (Add/List/DeleteUserPoolClientSecret), nor a client_credentials grant on /oauth2/token:
 *   `cognito-token-endpoint.ts` stands in for the token endpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CognitoLocalOptions {
  /** How long to wait for the server to answer. Defaults to 15 s (it usually takes under 1 s). */
  startTimeoutMs?: number;
}

export interface CognitoLocal {
  /** Endpoint for the SDK, e.g. http://127.0.0.1:PORT. */
  url: string;
  /** Stops the process and deletes its state directory. */
  close(): Promise<void>;
}

export async function startCognitoLocal(options: CognitoLocalOptions = {}): Promise<CognitoLocal> {
  const entryPoint = await cognitoLocalEntryPoint();
  const stateDir = await mkdtemp(join(tmpdir(), 'cognito-local-'));
  try {
    const child = await launchWithRetries(entryPoint, stateDir, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    return {
      url: child.url,
      close: async () => {
        await child.stop();
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
}

const HOST = '127.0.0.1';
const DEFAULT_START_TIMEOUT_MS = 15_000;
/** A free port can be taken by someone else before the child binds it; then we try another. */
const PORT_ATTEMPTS = 3;
const POLL_INTERVAL_MS = 50;
const STOP_GRACE_MS = 3_000;

/** The `bin` entry of the installed package, so an upgrade that moves it keeps working. */
async function cognitoLocalEntryPoint(): Promise<string> {
  const packageJsonPath = createRequire(import.meta.url).resolve('cognito-local/package.json');
  const packageJson = JSON.parse(await readFile(packageJsonPath, 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof packageJson.bin === 'string' ? packageJson.bin : packageJson.bin?.['cognito-local'];
  if (!bin) throw new Error(`cognito-local: no bin entry in ${packageJsonPath}`);
  return resolve(dirname(packageJsonPath), bin);
}

interface RunningChild {
  url: string;
  stop(): Promise<void>;
}

async function launchWithRetries(entryPoint: string, stateDir: string, timeoutMs: number): Promise<RunningChild> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(entryPoint, stateDir, await freePort(), timeoutMs);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function launch(entryPoint: string, stateDir: string, port: number, timeoutMs: number): Promise<RunningChild> {
  const child = spawn(process.execPath, [entryPoint], {
    cwd: stateDir,
    env: {
      ...process.env,
      HOST,
      PORT: String(port),
      // cognito-local still loads the AWS SDK v2, which prints an end-of-support notice on start.
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new RecentOutput();
  // The pipes must be drained or the child blocks once their buffers fill.
  child.stdout?.on('data', (chunk: Buffer) => output.add(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.add(chunk));

  // If the test runner exits without calling close(), the child must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await stopChild(child);
  };

  const url = `http://${HOST}:${port}`;
  try {
    await waitUntilHealthy(url, child, timeoutMs);
  } catch (error) {
    await stop();
    if (/EADDRINUSE/.test(output.text())) throw new PortTakenError(`port ${port} is taken`);
    throw new Error(`cognito-local did not start: ${(error as Error).message}\n--- its output ---\n${output.text()}`);
  }
  return { url, stop };
}

/** Polls cognito-local's own `/health` route; fails fast if the process dies first. */
async function waitUntilHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`it exited with ${child.exitCode ?? child.signalCode}`);
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`no answer on ${url}/health within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGTERM');
  const stoppedInTime = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS, false)]);
  if (!stoppedInTime) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Asks the OS for an ephemeral port, then releases it for the child to bind. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  return port;
}

/** The last few KiB of the child's output, for start-up error messages. */
class RecentOutput {
  private chunks: string[] = [];
  private size = 0;
  private static readonly LIMIT = 8_192;

  add(chunk: Buffer): void {
    this.chunks.push(chunk.toString('utf8'));
    this.size += chunk.length;
    while (this.size > RecentOutput.LIMIT && this.chunks.length > 1) this.size -= this.chunks.shift()?.length ?? 0;
  }

  text(): string {
    return this.chunks.join('');
  }
}
