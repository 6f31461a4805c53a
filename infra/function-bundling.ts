import { fileURLToPath } from 'node:url';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * In Lambda the credentials are always the execution role's, in the environment: the deployed
 * bundles take the SDK's credential chain from this module, which reads the environment only.
 */
const environmentCredentials = fileURLToPath(new URL('../lambda/clients/environment-credentials.ts', import.meta.url));

/** How every webhook function is bundled; `npm run bench` measures bundles built with the same settings. */
export const functionBundling = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  // Bundle the SDK too (NodejsFunction leaves @aws-sdk/* out by default): pinned, tree-shaken.
  externalModules: [],
  minify: true,
  // The map ships beside the bundle but Node does not load it: --enable-source-maps costs every cold
  // start 10-20% of its init (npm run bench); set NODE_OPTIONS=--enable-source-maps on a function to
  // read its stack traces mapped while investigating.
  sourceMap: true,
  sourcesContent: false,
  // CommonJS dependencies inside an ESM bundle still call require().
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  esbuildArgs: { '--alias': `@aws-sdk/credential-provider-node=${environmentCredentials}` },
} satisfies BundlingOptions;
