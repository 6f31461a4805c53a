#!/usr/bin/env node
// The package's executable: registers tsx so Node runs the TypeScript sources in tools/ as they are.
// (Shipping them prebuilt, so no loader is needed, is part of packaging the project.)
import { register } from 'tsx/esm/api';

register();
const { runAsProgram } = await import('../tools/portal-credentials.ts');
await runAsProgram();
