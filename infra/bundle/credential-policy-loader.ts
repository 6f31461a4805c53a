import { readFileSync } from 'node:fs';

/**
 * Injected into every function bundle (esbuild `inject`): lambda/commons/settings.ts's free
 * `BUNDLED_CREDENTIAL_POLICY` becomes this value, read once at cold start from the JSON file the
 * construct writes beside the bundle. The policy grows with the portal's APIs (about 80 bytes
 * each), so it stays out of Lambda's 4 KB environment; a file keeps the bundle itself prebuilt.
 */
export const BUNDLED_CREDENTIAL_POLICY = readFileSync(new URL('./credential-policy.json', import.meta.url), 'utf8');
