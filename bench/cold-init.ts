import { execFileSync } from 'node:child_process';

export interface ColdStart {
  /** The module Lambda would import (null: an empty `node -e 0`). */
  file: string | null;
  /** The whole environment the process starts with: Lambda's, not the developer's. */
  environment: Record<string, string>;
}

/**
 * Whole-process time to start Node, load a bundle and build its handler, as a cold
 * start pays it. Runs are interleaved across the bundles so that machine noise
 * spreads evenly, and the median is kept.
 */
export const measureColdInit = (starts: Record<string, ColdStart>, runs: number) => {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(starts).map((name) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (const [name, { file, environment }] of Object.entries(starts)) {
      const args = file === null ? ['-e', '0'] : ['--input-type=module', '-e', `await import(${JSON.stringify(file)});`];
      const started = process.hrtime.bigint();
      execFileSync(process.execPath, args, { env: environment, stdio: 'ignore' });
      samples[name]?.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
};

export const median = (values: number[]) => quantile(values, 0.5);

export const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
