/**
 * `npm pack`'s prepack: everything the package runs, prebuilt into dist/, so that a consumer needs
 * neither this repository, TypeScript, esbuild nor Docker:
 *   dist/index.js        the construct (infra/index.ts), aws-cdk-lib and constructs left to the consumer's copies
 *   dist/functions/<name>/index.mjs   the functions' bundles, which the construct stages with the credential policy
 *   dist/cli.js          the portal-credentials command (tools/portal-credentials.ts), every dependency inside
 *   dist/types/          the type declarations, `#` imports rewritten to relative paths
 * postpack removes dist/ again: in this checkout the sources are what runs.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { buildFunctionBundles } from './function-code.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const requireBanner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";
const peers = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'];

/** The Node the package supports (package.json engines), for the construct and the CLI, which run on the consumer's. */
const consumerNode = 'node20';

export const buildPackage = () => {
  rmSync(dist, { recursive: true, force: true });
  buildFunctionBundles(join(dist, 'functions'));
  const common = { bundle: true, platform: 'node', format: 'esm', target: consumerNode, banner: { js: requireBanner }, logLevel: 'warning' } as const;
  esbuild.buildSync({ ...common, entryPoints: [join(root, 'infra/index.ts')], outfile: join(dist, 'index.js'), external: peers });
  esbuild.buildSync({ ...common, entryPoints: [join(root, 'tools/portal-credentials.ts')], outfile: join(dist, 'cli.js') });
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'infra/tsconfig.package.json')], {
    stdio: 'inherit',
  });
  rewriteDeclarationImports(join(dist, 'types'));
};

/** The package's `imports` map (`#commons/*` → `./lambda/commons/*.ts`), as relative paths from `file`. */
const rewriteDeclarationImports = (typesDir: string) => {
  const imports = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { imports: Record<string, string> }).imports;
  for (const file of declarationFiles(typesDir)) {
    const text = readFileSync(file, 'utf8')
      .replace(/(['"])(#[\w-]+)\/([\w./-]+)\1/g, (whole, quote: string, prefix: string, rest: string) => {
        const target = imports[`${prefix}/*`];
        if (!target) return whole;
        const path = relative(dirname(file), join(typesDir, target.replace('*', rest)));
        return `${quote}${path.startsWith('.') ? path : `./${path}`}${quote}`.replace(/\.ts(['"])$/, '.js$1');
      })
      .replace(/(['"])(\.{1,2}\/[\w./-]+)\.ts\1/g, '$1$2.js$1');
    writeFileSync(file, text);
  }
};

const declarationFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? declarationFiles(path) : path.endsWith('.d.ts') ? [path] : [];
  });

if (process.argv[1] === fileURLToPath(import.meta.url)) buildPackage();
