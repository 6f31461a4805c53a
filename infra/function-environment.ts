import { Tokenization } from 'aws-cdk-lib';

/** Lambda's limit on a function's environment: every key and value together (Lambda quotas). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** What a value known only at deployment (a table name, an ARN, a URL, an id) is counted as. */
const UNRESOLVED_VALUE_BYTES = 128;

/** The environment's size as Lambda counts it, with each unresolved value at a generous estimate. */
export const estimatedEnvironmentBytes = (environment: Record<string, string>) =>
  Object.entries(environment).reduce((total, [name, value]) => {
    const estimated = Tokenization.reverseString(value)
      .mapTokens({ mapToken: () => 'x'.repeat(UNRESOLVED_VALUE_BYTES) })
      .join({ join: (left: unknown, right: unknown) => `${left}${right}` });
    return total + Buffer.byteLength(name) + Buffer.byteLength(String(estimated ?? ''));
  }, 0);

/** Refuses, at synth, an environment Lambda would refuse at deployment. */
export const assertEnvironmentFits = (environment: Record<string, string>) => {
  const bytes = estimatedEnvironmentBytes(environment);
  if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    const largest = Object.entries(environment)
      .sort(([, a], [, b]) => b.length - a.length)
      .slice(0, 1)
      .map(([name]) => name);
    throw new Error(
      `The functions' environment would take about ${bytes} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} in total. The largest variable is ${largest.join(', ')} (usagePlanIds: at most 300 plans, API Gateway's quota per Region).`,
    );
  }
};
