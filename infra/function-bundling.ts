import { fileURLToPath } from 'node:url';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * In Lambda the credentials are always the execution role's, in the environment: the deployed
 * bundles take the SDK's credential chain from this module, which reads the environment only.
 */
const environmentCredentials = fileURLToPath(new URL('../lambda/clients/environment-credentials.ts', import.meta.url));

/**
 * Reads the credential policy from the file the construct writes beside each bundle (credential-policy.json):
 * the bundles are built once, before the policy is known (the package ships them prebuilt).
 */
export const credentialPolicyLoader = fileURLToPath(new URL('./bundle/credential-policy-loader.ts', import.meta.url));

/** The file beside each bundle that holds the deployment's credential policy. */
export const CREDENTIAL_POLICY_FILE = 'credential-policy.json';

/** CommonJS dependencies inside an ESM bundle still call require(). */
const requireBanner = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/**
 * How every deployed function is bundled (esbuild's own options): `npm run bench` measures these bundles,
 * and the package's prepack builds the same ones.
 */
export const functionEsbuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  // The SDK is bundled too (pinned, tree-shaken): nothing is left to the runtime's copy.
  minify: true,
  // The map ships beside the bundle but Node does not load it: --enable-source-maps costs every cold
  // start 10-20% of its init (npm run bench); set NODE_OPTIONS=--enable-source-maps on a function to
  // read its stack traces mapped while investigating.
  sourcemap: true,
  sourcesContent: false,
  banner: { js: requireBanner },
  alias: { '@aws-sdk/credential-provider-node': environmentCredentials },
  // lambda/commons/settings.ts reads BUNDLED_CREDENTIAL_POLICY: this module's export, read from the file beside the bundle.
  inject: [credentialPolicyLoader],
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
} as const;

/** The same settings for NodejsFunction (the bench's one-client baselines, which read no policy). */
export const functionBundling = {
  format: OutputFormat.ESM,
  target: functionEsbuildOptions.target,
  mainFields: [...functionEsbuildOptions.mainFields],
  externalModules: [],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  banner: requireBanner,
  esbuildArgs: { '--alias': `@aws-sdk/credential-provider-node=${environmentCredentials}` },
} satisfies BundlingOptions;
