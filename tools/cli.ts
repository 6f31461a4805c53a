import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** True when the module at `moduleUrl` is the program being run, rather than imported by a test. */
export const isEntryPoint = (moduleUrl: string): boolean => {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
};

/** Where a command's output goes; tests capture it instead of writing to the process streams. */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Exit codes every command shares: 0 done, 1 the operation failed, 2 wrong usage. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * Parses the command line; `--help` prints the usage and a usage error prints it too,
 * each answered with the exit code to end with instead of a request.
 */
export const parseOrExit = <T>(parse: () => T | 'help', usage: string, output: CliOutput): { request: T } | { exitCode: number } => {
  let parsed: T | 'help';
  try {
    parsed = parse();
  } catch (error) {
    output.stderr(`error: ${(error as Error).message}\n\n${usage}`);
    return { exitCode: EXIT_USAGE };
  }
  if (parsed === 'help') {
    output.stdout(usage);
    return { exitCode: EXIT_OK };
  }
  return { request: parsed };
};

/** The audit found drift it did not (or may not) repair. */
export const EXIT_DRIFT = 3;
/** verify could not remove what it made: the leftovers are named on stderr. */
export const EXIT_LEFTOVERS = 4;

/** The one JSON document a command prints on stdout with --json. */
export const writeJson = (output: CliOutput, document: unknown) => output.stdout(`${JSON.stringify(document, null, 2)}\n`);
