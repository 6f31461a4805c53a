import { writeFileSync } from 'node:fs';

/**
 * vitest global setup: when CI asks (TESTS_NODE_VERSION_FILE), record the Node version the
 * tests run on, so that .ci/run can prove it is the project's pinned Node and not whatever
 * `node` the machine has (the test workers are forked from this process, with its binary).
 */
export default function reportNodeVersion() {
  const file = process.env.TESTS_NODE_VERSION_FILE;
  if (file) writeFileSync(file, process.version);
}
