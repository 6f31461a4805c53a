#!/usr/bin/env node
// The package's executable. Installed from the package it runs the prebuilt dist/cli.js (npm pack's
// prepack bundles tools/portal-credentials.ts with every dependency); in a checkout, which has the
// sources (the package ships none), it registers tsx so that Node runs tools/ as they are.
import { existsSync } from 'node:fs';

const sources = new URL('../tools/portal-credentials.ts', import.meta.url);
let program;
if (!existsSync(sources)) {
  program = await import(new URL('../dist/cli.js', import.meta.url).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  program = await import(sources.href);
}
await program.runAsProgram();
