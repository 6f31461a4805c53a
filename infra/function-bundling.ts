import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** How every webhook function is bundled; `npm run bench` measures bundles built with the same settings. */
export const functionBundling = {
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  // Bundle the SDK too (NodejsFunction leaves @aws-sdk/* out by default): pinned, tree-shaken.
  externalModules: [],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // CommonJS dependencies inside an ESM bundle still call require().
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
} satisfies BundlingOptions;
