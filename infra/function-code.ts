import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { CredentialPolicySettings } from '#commons/config';
import { CREDENTIAL_POLICY_FILE, functionEsbuildOptions } from './function-bundling.ts';

/** Each deployed function's bundle, by name, and the handler module it is built from. */
export const functionBundles = {
  'create-credentials': 'lambda/handlers/create-credentials.ts',
  'update-credentials': 'lambda/handlers/update-credentials.ts',
  'revoke-credentials': 'lambda/handlers/revoke-credentials.ts',
  health: 'lambda/handlers/health.ts',
  audit: 'lambda/handlers/audit.ts',
  'record-history': 'lambda/handlers/record-history.ts',
} as const;
export type FunctionBundle = keyof typeof functionBundles;

/** Every bundle exports its handler as `handler` from index.mjs. */
export const FUNCTION_HANDLER = 'index.handler';

const BUNDLE_FILES = ['index.mjs', 'index.mjs.map'];

/**
 * Where the package ships the bundles prebuilt: `functions/` beside the construct's own module
 * (dist/index.js in the package). In this repository's sources there is none: they are built at synth.
 */
const prebuiltDirectory = fileURLToPath(new URL('./functions/', import.meta.url));

const repoFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/** Builds the bundles with esbuild into `outdir/<name>/index.mjs`: the package's prepack and a synth from the sources. */
export const buildFunctionBundles = (outdir: string, names: readonly FunctionBundle[] = Object.keys(functionBundles) as FunctionBundle[]) => {
  // Required lazily: a consumer of the package runs the prebuilt bundles and has no esbuild.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  return esbuild.buildSync({
    metafile: true,
    ...functionEsbuildOptions,
    mainFields: [...functionEsbuildOptions.mainFields],
    inject: [...functionEsbuildOptions.inject],
    entryPoints: names.map((name) => ({ in: repoFile(functionBundles[name]), out: `${name}/index` })),
    outdir,
  });
};

let builtFromSources: string | undefined;

/** The directory holding every bundle: the package's prebuilt ones, else built once per process from the sources. */
const bundlesDirectory = () => {
  if (existsSync(join(prebuiltDirectory, 'health', 'index.mjs'))) return prebuiltDirectory;
  if (!builtFromSources) {
    const outdir = mkdtempSync(join(tmpdir(), 'portal-credentials-bundles-'));
    buildFunctionBundles(outdir);
    builtFromSources = outdir;
  }
  return builtFromSources;
};

const staged = new Map<string, string>();

/**
 * A function's code: its bundle with the deployment's credential policy in a file beside it, which the
 * bundle reads at cold start (infra/bundle/credential-policy-loader.ts). When the stack is not bundled
 * (`cdk synth --exclusively` of another stack, tests), the asset holds the policy file only, as CDK
 * itself leaves such assets unbuilt.
 */
export const functionCode = (scope: Construct, bundle: FunctionBundle, policy: CredentialPolicySettings): lambda.Code => {
  const bundles = Stack.of(scope).bundlingRequired ? bundlesDirectory() : undefined;
  const policyJson = JSON.stringify(policy);
  const key = JSON.stringify([bundles, bundle, policyJson]);
  let directory = staged.get(key);
  if (!directory) {
    directory = mkdtempSync(join(tmpdir(), `portal-credentials-${bundle}-`));
    mkdirSync(directory, { recursive: true });
    if (bundles) for (const file of BUNDLE_FILES) copyFileSync(join(bundles, bundle, file), join(directory, file));
    writeFileSync(join(directory, CREDENTIAL_POLICY_FILE), policyJson);
    staged.set(key, directory);
  }
  return lambda.Code.fromAsset(directory);
};
