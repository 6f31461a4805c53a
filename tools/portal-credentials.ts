/**
 * The one executable (`portal-credentials`, package.json `bin`) for what operators and developers
 * run: each subcommand is a module of its own in tools/, with its own --help.
 *
 *   portal-credentials <command> [options]
 */
import { main as audit } from './audit.ts';
import { type CliOutput, EXIT_OK, EXIT_USAGE, processOutput } from './cli.ts';
import { main as fetchToken } from './fetch-token.ts';
import { main as history } from './history.ts';
import { main as rotateClientSecret } from './rotate-client-secret.ts';
import { main as verify } from './verify.ts';

export const USAGE = `Usage: portal-credentials <command> [options]

Commands:
  audit                  Compare the registry with AWS; report and repair drift
  history                Print every change made to an app's credential
  verify                 Prove a deployment works end to end, and clean up after
  fetch-token            Fetch an access token with client credentials
  rotate-client-secret   Rotate an app client's secret without downtime

Every command takes --help. The deployment commands (audit, history, verify) take --stack NAME
and read the stack's outputs; --region, --json mean the same everywhere. With --json, stdout holds
exactly one JSON document; progress and errors go to stderr.

Exit codes: 0 ok, 1 failed, 2 wrong usage, 3 drift left (audit), 4 leftovers after clean-up (verify).
`;

interface RunOptions {
  output?: CliOutput;
  /** Stops an audit's repairs between two actions (Ctrl-C). */
  signal?: AbortSignal;
  terminal?: boolean;
}

type Command = (args: readonly string[], env: NodeJS.ProcessEnv, options: RunOptions) => Promise<number>;

const commands: Record<string, Command> = {
  audit: (args, env, options) =>
    audit(args, env, {
      ...(options.output ? { output: options.output } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      terminal: options.terminal ?? false,
    }),
  history: (args, env, options) => history(args, env, options.output),
  verify: (args, env, options) => verify(args, env, options.output),
  'fetch-token': (args, env, options) => fetchToken(args, env, options.output),
  'rotate-client-secret': (args, env, options) => rotateClientSecret(args, env, options.output),
};

/** Runs one subcommand and returns its exit code; never throws. */
export const run = async (args: readonly string[], env: NodeJS.ProcessEnv = process.env, options: RunOptions = {}): Promise<number> => {
  const output = options.output ?? processOutput;
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? output.stderr : output.stdout)(USAGE);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = commands[name];
  if (!command) {
    output.stderr(`error: unknown command "${name}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  return command(rest, env, { ...options, output });
};

/** As a program: Ctrl-C lets an audit's repair in progress finish, a second one stops at once. */
export const runAsProgram = async (): Promise<void> => {
  const stop = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nstopping after the step in progress; run again to resume\n');
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  process.exitCode = await run(process.argv.slice(2), process.env, { signal: stop.signal, terminal: process.stderr.isTTY });
};
