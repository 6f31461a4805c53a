import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { CredentialPolicySettings } from '#commons/config';
import { leaseMarginSeconds } from '#commons/defaults';
import { functionBundling } from './function-bundling.ts';
import { type RouteResources, routePermissions, type WebhookRoute } from './route-permissions.ts';

/**
 * The functions' timeout. API Gateway gives up after 29 s; a create may wait up to
 * CLAIM_WAIT_SECONDS for a concurrent one and retries throttled AWS calls, so it
 * gets all the time it can while still answering the portal itself.
 */
export const WEBHOOK_FUNCTION_TIMEOUT_SECONDS = 25;

/**
 * What is wrong with a claim lease, if anything: a holder stops acting `leaseMarginSeconds` before its
 * lease ends, so the lease must outlast the function holding it by more than that margin, or a running
 * change would find its turn over.
 */
export const claimLeaseProblem = (leaseSeconds: number): string | undefined =>
  leaseSeconds > WEBHOOK_FUNCTION_TIMEOUT_SECONDS + leaseMarginSeconds
    ? undefined
    : `must exceed the functions' timeout (${WEBHOOK_FUNCTION_TIMEOUT_SECONDS} s) plus the margin a holder keeps before its lease ends (${leaseMarginSeconds} s)`;

/** The four functions, one per route. */
export interface WebhookFunctions {
  readonly create: NodejsFunction;
  readonly update: NodejsFunction;
  readonly revoke: NodejsFunction;
  readonly health: NodejsFunction;
}

interface RouteDefinition {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly entry: string;
  readonly description: string;
}

/** The contract's routes, each served by the handler file of the same name. */
export const routes: Record<WebhookRoute, RouteDefinition> = {
  create: {
    name: 'CreateCredentials',
    method: 'POST',
    path: 'createCredentials',
    entry: 'create-credentials.ts',
    description: 'creates an app credential',
  },
  update: {
    name: 'UpdateCredentials',
    method: 'POST',
    path: 'updateCredentials',
    entry: 'update-credentials.ts',
    description: 'regrants an app credential',
  },
  revoke: {
    name: 'RevokeCredentials',
    method: 'POST',
    path: 'revokeCredentials',
    entry: 'revoke-credentials.ts',
    description: 'revokes an app credential',
  },
  health: { name: 'Health', method: 'GET', path: 'health', entry: 'health.ts', description: 'checks the webhook can authenticate the portal' },
};

export const webhookRoutes = Object.keys(routes) as WebhookRoute[];

const repoFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export interface WebhookFunctionsProps {
  /** Every function's environment, already checked against Lambda's 4 KB. */
  readonly environment: Record<string, string>;
  /** The validated credential policy, built into each bundle. */
  readonly policy: CredentialPolicySettings;
  /** What each role may reach. */
  readonly resources: RouteResources;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
}

/**
 * One bundled function per route, each with its own role holding only the calls its code
 * makes, and its own log group. Created in `scope` (the webhook), where their ids have always been.
 */
/**
 * The functions' bundling with the credential policy built in: the policy grows with the portal's APIs (about
 * 80 bytes each), so it is read by lambda/commons/settings.ts from the bundle rather than the 4 KB environment.
 */
export const bundlingWithPolicy = (policy: WebhookFunctionsProps['policy']) => ({
  ...functionBundling,
  define: { BUNDLED_CREDENTIAL_POLICY: JSON.stringify(JSON.stringify(policy)) },
});

export const addWebhookFunctions = (scope: Construct, props: WebhookFunctionsProps): WebhookFunctions => {
  const bundling = bundlingWithPolicy(props.policy);
  const makeFunction = (route: WebhookRoute) => {
    const definition = routes[route];
    const role = new iam.Role(scope, `${definition.name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Portal credentials webhook, ${definition.path}: only the calls its code makes`,
    });
    for (const statement of routePermissions(route, props.resources)) role.addToPolicy(statement);
    const logGroup = new logs.LogGroup(scope, `${definition.name}Logs`, { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    // Instead of AWSLambdaBasicExecutionRole (any log group): write to this one only.
    logGroup.grantWrite(role);
    return new NodejsFunction(scope, `${definition.name}Function`, {
      description: `Portal credentials webhook: ${definition.description}`,
      entry: repoFile(`lambda/handlers/${definition.entry}`),
      handler: 'handler',
      projectRoot: repoFile(''),
      depsLockFilePath: repoFile('package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: Duration.seconds(WEBHOOK_FUNCTION_TIMEOUT_SECONDS),
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      environment: props.environment,
      bundling,
    });
  };
  return { create: makeFunction('create'), update: makeFunction('update'), revoke: makeFunction('revoke'), health: makeFunction('health') };
};
