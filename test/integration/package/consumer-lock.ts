import { readFileSync } from 'node:fs';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  dev?: boolean;
  optional?: boolean;
  [key: string]: unknown;
}
interface Lockfile {
  packages: Record<string, LockEntry>;
}

/** Where Node finds `name` from the package installed at `from` (`node_modules/a/node_modules/b`): nearest node_modules first. */
const resolveIn = (packages: Lockfile['packages'], from: string, name: string) => {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent === -1 ? '' : base.slice(0, parent);
  }
};

/**
 * A package-lock.json for a fresh app that installs the packed tarball and the peers: the entries this
 * repository's own lock holds for them and everything they need, so that `npm ci --offline` takes every
 * tarball from npm's cache (where this repository's install put them) without asking the registry for
 * version lists, which the cache does not hold.
 */
export const consumerLockfile = (repoLockPath: string, tarball: { name: string; version: string; file: string; manifest: LockEntry }) => {
  const lock = JSON.parse(readFileSync(repoLockPath, 'utf8')) as Lockfile;
  const roots = { ...tarball.manifest.dependencies, ...tarball.manifest.peerDependencies };
  const kept: Record<string, LockEntry> = {};
  const visit = (path: string) => {
    if (kept[path]) return;
    const { dev: _dev, devOptional: _devOptional, ...entry } = lock.packages[path]!;
    kept[path] = entry;
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies })) {
      const found = resolveIn(lock.packages, path, name);
      if (found) visit(found);
    }
  };
  for (const name of Object.keys(roots)) {
    const found = resolveIn(lock.packages, '', name);
    if (!found) throw new Error(`${name} is not in ${repoLockPath}: install it in this repository first`);
    visit(found);
  }
  const dependencies = { [tarball.name]: `file:${tarball.file}`, ...tarball.manifest.peerDependencies };
  const packageJson = { name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies };
  const packages: Record<string, LockEntry> = {
    '': { name: 'consumer', version: '1.0.0', dependencies },
    [`node_modules/${tarball.name}`]: {
      version: tarball.version,
      resolved: `file:${tarball.file}`,
      ...(tarball.manifest.dependencies ? { dependencies: tarball.manifest.dependencies } : {}),
      ...(tarball.manifest.peerDependencies ? { peerDependencies: tarball.manifest.peerDependencies } : {}),
      bin: { 'portal-credentials': 'bin/portal-credentials.js' },
    },
    ...kept,
  };
  return { packageJson, lockfile: { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages } };
};
