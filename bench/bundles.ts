import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { functionBundling } from '../infra/function-bundling.ts';

/** The four functions, by handler file, and the one SDK client each mainly needs (the baseline it is compared with). */
export const functions = [
  { name: 'createCredentials', entry: 'lambda/handlers/create-credentials.ts', baseline: 'api-gateway' },
  { name: 'updateCredentials', entry: 'lambda/handlers/update-credentials.ts', baseline: 'api-gateway' },
  { name: 'revokeCredentials', entry: 'lambda/handlers/revoke-credentials.ts', baseline: 'api-gateway' },
  { name: 'health', entry: 'lambda/handlers/health.ts', baseline: 'secrets-manager' },
] as const;

export const baselines = {
  'api-gateway': "import { APIGatewayClient } from '@aws-sdk/client-api-gateway';\nexport const client = new APIGatewayClient({});\nexport const handler = async () => ({});\n",
  'secrets-manager': "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';\nexport const client = new SecretsManagerClient({});\nexport const handler = async () => ({});\n",
} as const;

/** The construct's bundling settings, as the esbuild options NodejsFunction turns them into (source maps aside: not deployed code). */
const asDeployed: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: functionBundling.format,
  target: functionBundling.target,
  mainFields: functionBundling.mainFields,
  external: functionBundling.externalModules,
  minify: functionBundling.minify,
  banner: { js: functionBundling.banner },
  logLevel: 'warning',
};

export interface Bundle {
  name: string;
  file: string;
  bytes: number;
}

export const bundleAll = async (outDir: string): Promise<{ functions: Bundle[]; baselines: Record<string, Bundle> }> => {
  await mkdir(outDir, { recursive: true });
  const bundle = async (name: string, entryPoint: string): Promise<Bundle> => {
    const file = join(outDir, `${name}.mjs`);
    await build({ ...asDeployed, entryPoints: [entryPoint], outfile: file });
    return { name, file, bytes: (await stat(file)).size };
  };
  const baselineBundles: Record<string, Bundle> = {};
  for (const [name, source] of Object.entries(baselines)) {
    const entry = join(outDir, `baseline-${name}.ts`);
    await writeFile(entry, source);
    baselineBundles[name] = await bundle(`baseline-${name}`, entry);
  }
  return { functions: await Promise.all(functions.map((fn) => bundle(fn.name, fn.entry))), baselines: baselineBundles };
};
