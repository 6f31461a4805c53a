import { loadConfig } from './config.ts';

/**
 * The credential policy the stack ships beside the prebuilt bundle (credential-policy.json, read once at
 * cold start through an esbuild `inject`; infra/function-code.ts): it grows with
 * the portal's APIs, and Lambda allows 4 KB of environment in total. Undefined when the
 * code runs unbundled (tests, local runs): CREDENTIAL_POLICY from the environment applies.
 */
declare const BUNDLED_CREDENTIAL_POLICY: string | undefined;
const bundledPolicy = typeof BUNDLED_CREDENTIAL_POLICY === 'string' ? BUNDLED_CREDENTIAL_POLICY : undefined;

/** This container's configuration, validated once at cold start. */
export const settings = loadConfig(bundledPolicy === undefined ? process.env : { ...process.env, CREDENTIAL_POLICY: bundledPolicy });
