import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { CredentialPolicySettings } from '#commons/config';
import { leaseMarginSeconds } from '#commons/defaults';
import { FUNCTION_HANDLER, type FunctionBundle, functionCode } from './function-code.ts';
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
  readonly create: lambda.Function;
  readonly update: lambda.Function;
  readonly revoke: lambda.Function;
  readonly health: lambda.Function;
}

interface RouteDefinition {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** The bundle serving it (infra/function-code.ts). */
  readonly bundle: FunctionBundle;
  readonly description: string;
}

/** The contract's routes, each served by the handler file of the same name. */
export const routes: Record<WebhookRoute, RouteDefinition> = {
  create: {
    name: 'CreateCredentials',
    method: 'POST',
    path: 'createCredentials',
    bundle: 'create-credentials',
    description: 'creates an app credential',
  },
  update: {
    name: 'UpdateCredentials',
    method: 'POST',
    path: 'updateCredentials',
    bundle: 'update-credentials',
    description: 'regrants an app credential',
  },
  revoke: {
    name: 'RevokeCredentials',
    method: 'POST',
    path: 'revokeCredentials',
    bundle: 'revoke-credentials',
    description: 'revokes an app credential',
  },
  health: { name: 'Health', method: 'GET', path: 'health', bundle: 'health', description: 'checks the webhook can authenticate the portal' },
};

export const webhookRoutes = Object.keys(routes) as WebhookRoute[];

export interface WebhookFunctionsProps {
  /** Every function's environment, already checked against Lambda's 4 KB. */
  readonly environment: Record<string, string>;
  /** The validated credential policy, in a file beside each bundle. */
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
export const addWebhookFunctions = (scope: Construct, props: WebhookFunctionsProps): WebhookFunctions => {
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
    return new lambda.Function(scope, `${definition.name}Function`, {
      description: `Portal credentials webhook: ${definition.description}`,
      code: functionCode(scope, definition.bundle, props.policy),
      handler: FUNCTION_HANDLER,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: Duration.seconds(WEBHOOK_FUNCTION_TIMEOUT_SECONDS),
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      environment: props.environment,
    });
  };
  return { create: makeFunction('create'), update: makeFunction('update'), revoke: makeFunction('revoke'), health: makeFunction('health') };
};
