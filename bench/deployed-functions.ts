import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { functionBundling } from '../infra/function-bundling.ts';
import { PortalCredentialsWebhookStack } from '../infra/portal-credentials-webhook-stack.ts';
import { parseSettings, SETTINGS_CONTEXT_KEY } from '../infra/settings.ts';

const region = 'us-east-1';

/**
 * What Lambda itself puts in a Node.js function's environment (Lambda developer guide,
 * "Defined runtime environment variables"), with placeholder values; the credentials
 * are the execution role's, always from the environment.
 */
const lambdaRuntimeEnvironment = (functionName: string, memorySize: number) => ({
  AWS_REGION: region,
  AWS_DEFAULT_REGION: region,
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: functionName,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
  AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
  AWS_ACCESS_KEY_ID: 'ASIABENCHBENCHBENCH1',
  AWS_SECRET_ACCESS_KEY: 'bench/bench/bench/bench/bench/bench/bench0',
  AWS_SESSION_TOKEN: 'bench-session-token',
  AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
  LANG: 'en_US.UTF-8',
  TZ: ':UTC',
});

/** Placeholder values for the resources the functions' environment refers to, by CloudFormation type. */
const placeholderByType: Record<string, string> = {
  'AWS::DynamoDB::Table': 'PortalCredentialsWebhook-Registry',
  'AWS::SecretsManager::Secret': `arn:aws:secretsmanager:${region}:123456789012:secret:BasicAuth-AbCdEf`,
  'AWS::Cognito::UserPool': `${region}_Bench1234`,
  'AWS::Cognito::UserPoolDomain': 'bench-portal-credentials',
  'AWS::ApiGateway::UsagePlan': 'bench01',
};
const pseudoParameters: Record<string, string> = {
  'AWS::Region': region,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::AccountId': '123456789012',
};

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

/** A template value with each Ref replaced by a placeholder of its resource's type, joins joined. */
const resolve = (value: unknown, template: Template): string => {
  if (typeof value === 'string') return value;
  const intrinsic = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (intrinsic.Ref !== undefined) {
    const type = template.Resources[intrinsic.Ref]?.Type;
    const placeholder = pseudoParameters[intrinsic.Ref] ?? (type ? placeholderByType[type] : undefined);
    if (placeholder === undefined) throw new Error(`bench: no placeholder for Ref ${intrinsic.Ref} (${type}); add one to placeholderByType`);
    return placeholder;
  }
  if (intrinsic['Fn::Join']) return intrinsic['Fn::Join'][1].map((part) => resolve(part, template)).join(intrinsic['Fn::Join'][0]);
  throw new Error(`bench: cannot resolve ${JSON.stringify(value)} in a function's environment`);
};

const clientSources = {
  'api-gateway': "import { APIGatewayClient } from '@aws-sdk/client-api-gateway';\nexport const apiGateway = new APIGatewayClient({});\n",
  'secrets-manager':
    "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';\nexport const secretsManager = new SecretsManagerClient({});\n",
  cognito:
    "import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';\nexport const cognito = new CognitoIdentityProviderClient({});\n",
  dynamodb:
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';\nexport const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}));\n",
};
const handlerHolding = (...clients: (keyof typeof clientSources)[]) =>
  `${clients.map((client) => clientSources[client]).join('')}export const handler = async () => ({});\n`;

/**
 * Handlers holding only SDK clients, to compare a function's init with: one client (the
 * target's yardstick), and every client its route calls (what the SDK alone costs it).
 */
const baselineSources = {
  'api-gateway': handlerHolding('api-gateway'),
  'secrets-manager': handlerHolding('secrets-manager'),
  'route-clients': handlerHolding('api-gateway', 'dynamodb', 'cognito', 'secrets-manager'),
} as const;
type Baseline = keyof typeof baselineSources;

/**
 * Each function, by its route in the construct, the one client it mainly needs, and the bundle
 * holding every client it calls (the credential routes: API Gateway, DynamoDB, Cognito for client
 * credentials, Secrets Manager for the Basic-auth secret; health: the secret's alone).
 */
const webhookFunctions = [
  { route: 'create', name: 'createCredentials', baseline: 'api-gateway', clients: 'route-clients' },
  { route: 'update', name: 'updateCredentials', baseline: 'api-gateway', clients: 'route-clients' },
  { route: 'revoke', name: 'revokeCredentials', baseline: 'api-gateway', clients: 'route-clients' },
  { route: 'health', name: 'health', baseline: 'secrets-manager', clients: 'secrets-manager' },
] as const;

export interface DeployedFunction {
  name: string;
  /** The asset's handler module (index.mjs, its source map beside it), as uploaded. */
  file: string;
  bytes: number;
  sourceMapBytes: number;
  /** Lambda's own variables and the stack's, as the function finds them at cold start. */
  environment: Record<string, string>;
}

/**
 * Synthesizes the stack from cdk.json's settings as `cdk synth` does (each function
 * bundled by the construct), plus the one-client baselines bundled by the same
 * NodejsFunction settings, and returns each function's asset and environment.
 */
export const synthesizeDeployedFunctions = (outdir: string) => {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };
  const app = new App({ outdir, context: cdkJson.context });
  const settings = parseSettings(app.node.tryGetContext(SETTINGS_CONTEXT_KEY));
  const env = { account: '123456789012', region };
  const stack = new PortalCredentialsWebhookStack(app, settings.stackName, { settings, env });
  const { create: deployedExample } = stack.webhook.functions;

  const baselineStack = new Stack(app, 'BenchBaselines', { env });
  const baselineDir = join(outdir, '..', 'baseline-sources');
  mkdirSync(baselineDir, { recursive: true });
  const repoRoot = new URL('..', import.meta.url).pathname;
  const baselineFunctions = Object.fromEntries(
    Object.entries(baselineSources).map(([name, source]) => {
      const entry = join(baselineDir, `${name}.ts`);
      writeFileSync(entry, source);
      const fn = new NodejsFunction(baselineStack, name, {
        entry,
        handler: 'handler',
        projectRoot: repoRoot,
        depsLockFilePath: join(repoRoot, 'package-lock.json'),
        runtime: deployedExample.runtime,
        architecture: deployedExample.architecture,
        bundling: functionBundling,
      });
      return [name, fn];
    }),
  ) as Record<Baseline, NodejsFunction>;

  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as Template;
  const asset = (fn: NodejsFunction) => {
    const file = join(assembly.directory, (fn.node.findChild('Code') as Asset).assetPath, 'index.mjs');
    return { file, bytes: statSync(file).size, sourceMapBytes: existsSync(`${file}.map`) ? statSync(`${file}.map`).size : 0 };
  };

  const functions = webhookFunctions.map(({ route, name, baseline, clients }) => {
    const fn = stack.webhook.functions[route];
    const properties = template.Resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)]!.Properties as {
      MemorySize: number;
      Environment: { Variables: Record<string, unknown> };
    };
    const variables = Object.fromEntries(Object.entries(properties.Environment.Variables).map(([key, value]) => [key, resolve(value, template)]));
    const deployed: DeployedFunction = {
      name,
      ...asset(fn),
      environment: { ...lambdaRuntimeEnvironment(`${settings.stackName}-${name}`, properties.MemorySize), ...variables },
    };
    return { ...deployed, baseline: `baseline-${baseline}`, clients: `baseline-${clients}` };
  });
  // A baseline starts in the environment of the functions it is compared with (NODE_OPTIONS included).
  const baselines = Object.entries(baselineFunctions).map(
    ([name, fn]): DeployedFunction => ({
      name: `baseline-${name}`,
      ...asset(fn),
      environment: functions.find((candidate) => [candidate.baseline, candidate.clients].includes(`baseline-${name}`))!.environment,
    }),
  );
  return { functions, baselines };
};
