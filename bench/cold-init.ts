import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { APIGatewayProxyEvent } from 'aws-lambda';

const run = promisify(execFile);

export interface ColdStart {
  /** The module Lambda would import (null: an empty `node -e 0`). */
  file: string | null;
  /** The whole environment the process starts with: Lambda's, not the developer's. */
  environment: Record<string, string>;
  /** The first request, invoked once the handler is ready; none: init alone. */
  event?: APIGatewayProxyEvent;
}

/** One process's figures, in ms since Node started it (performance.timeOrigin). */
interface Sample {
  /** Node ready and the handler module imported: what Lambda reports as Init Duration. */
  initMs: number;
  /** CPU time (user + system, every thread) spent by then. */
  initCpuMs: number;
  /** The first request answered too: what the portal waits for on a cold start (no network). */
  firstRequestMs?: number;
  firstRequestCpuMs?: number;
  status?: number;
}

export interface ColdFigures {
  initMs: number;
  initCpuMs: number;
  firstRequestMs: number;
  firstRequestCpuMs: number;
}

/** The script each process runs: Lambda's own steps (import the handler, invoke it once), timed from inside. */
const script = ({ file, event }: ColdStart) => `
const cpuMs = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };
${file === null ? '' : `const { handler } = await import(${JSON.stringify(file)});`}
const figures = { initMs: performance.now(), initCpuMs: cpuMs() };
${
  event === undefined
    ? ''
    : `const context = { functionName: 'bench', awsRequestId: 'bench-request', getRemainingTimeInMillis: () => 25_000 };
const response = await handler(${JSON.stringify(event)}, context);
Object.assign(figures, { firstRequestMs: performance.now(), firstRequestCpuMs: cpuMs(), status: response.statusCode });`
}
process.stdout.write('\\nBENCH ' + JSON.stringify(figures) + '\\n');`;

/**
 * Starts Node, loads a bundle and builds its handler as a cold start does, then answers one
 * request when the start has one. Timed inside the process, from Node's own start, so that
 * spawning and exiting it are left out. Runs are interleaved across the starts so that machine
 * noise spreads evenly, and the median of each figure is kept.
 */
export const measureColdStarts = async (starts: Record<string, ColdStart>, runs: number, expectedStatus: (name: string) => number | undefined) => {
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(starts).map((name) => [name, []]));
  for (let round = 0; round < runs; round++) {
    for (const [name, start] of Object.entries(starts)) {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script(start)], {
        env: start.environment,
        maxBuffer: 16 * 1024 * 1024,
      });
      const line = stdout.split('\n').findLast((candidate) => candidate.startsWith('BENCH '));
      if (!line) throw new Error(`${name}: no figures in its output`);
      const sample = JSON.parse(line.slice('BENCH '.length)) as Sample;
      const expected = expectedStatus(name);
      if (expected !== undefined && sample.status !== expected)
        throw new Error(`${name}: the first request answered ${sample.status}, not ${expected}\n${stdout}`);
      samples[name]!.push(sample);
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, values]): [string, ColdFigures] => [
      name,
      {
        initMs: median(values.map((value) => value.initMs)),
        initCpuMs: median(values.map((value) => value.initCpuMs)),
        firstRequestMs: median(values.map((value) => value.firstRequestMs ?? Number.NaN)),
        firstRequestCpuMs: median(values.map((value) => value.firstRequestCpuMs ?? Number.NaN)),
      },
    ]),
  );
};

export const median = (values: number[]) => quantile(values, 0.5);

export const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
