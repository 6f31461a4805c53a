import { Stack, Validations } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
// The function cdk-nag itself turns ARNs into finding ids with, so the ids below match exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';
import type { PortalCredentialsWebhook } from './portal-credentials-webhook.ts';
import { MAX_PLANS_SCOPED_BY_ARN } from './route-permissions.ts';

/**
 * The AwsSolutions findings this design accepts, each acknowledged on the one
 * construct it is about, with its reason. cdk-nag v3 reports through CDK's
 * validation framework: `Validations.of(construct).acknowledge()` replaces the v2
 * `NagSuppressions`, and a wildcard is acknowledged by its exact finding id
 * (`AwsSolutions-IAM5[Resource::<flattened ARN>]`), one per resource pattern.
 */

const acknowledge = (construct: IConstruct | undefined, id: string, reason: string) => {
  if (construct) Validations.of(construct).acknowledge({ id, reason });
};

const flatten = (scope: IConstruct, value: unknown) => flattenCfnReference(Stack.of(scope).resolve(value));

const partition = '(?:<AWS::Partition>|[a-z-]+)';
const region = '(?:<AWS::Region>|[a-z0-9-]+)';
/** `arn:<partition>:apigateway:<region>::<path>`, the partition and Region literal or pseudo-parameters. */
const apigatewayArn = (path: string) => new RegExp(`^arn:${partition}:apigateway:${region}::${path}$`);

/** Why each wildcard resource the functions' roles hold cannot be narrowed. Anything else stays reported. */
const wildcardReasons: [RegExp, string][] = [
  [
    /^\*$/,
    "Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; the history's stream consumer: dynamodb:ListStreams, which the event source mapping grants, supports none either; the drift audit's servicequotas:ListServiceQuotas and servicequotas:ListAWSDefaultServiceQuotas (read-only: the pool's quota of app clients in force) support no resource type nor condition key.",
  ],
  [
    apigatewayArn('/apikeys/\\*'),
    'API key ids are made by CreateApiKey at runtime; GET (GetApiKey) and DELETE (DeleteApiKey) on /apikeys/<id> are allowed only on keys tagged managed-by=portal-credentials-webhook (aws:ResourceTag condition).',
  ],
  [
    apigatewayArn(
      `/tags/arn(?::${partition}:apigateway:${region}::/apikeys/|%3\\?${partition}%3\\?apigateway%3\\?${region}%3\\?%3\\?%2\\?apikeys%2\\?)\\*`,
    ),
    'CreateApiKey with tags is also authorized as apigateway:PUT on /tags/<URL-encoded ARN of the new key>, whose id does not exist before the call; limited to API keys of the Regions the webhook serves (its own and those its provisioning targets list).',
  ],
  [
    apigatewayArn('/usageplans/[^/*]+/keys/\\*'),
    'GetUsagePlanKey and DeleteUsagePlanKey name a key id known only at runtime; the path is limited to each configured usage plan.',
  ],
  [
    apigatewayArn('/usageplans/\\*(?:/keys(?:/\\*)?)?'),
    `Beyond ${MAX_PLANS_SCOPED_BY_ARN} usage plans, listing each plan would pass IAM's inline policy size (300 plans is API Gateway's quota); the functions refuse (422) any plan not configured before AWS is called.`,
  ],
];

/**
 * Acknowledges each wildcard resource of the role's statements whose reason is known. On the
 * role, so that it covers the overflow managed policies CDK splits a large policy into at synth.
 */
const acknowledgeWildcardResources = (role: iam.IRole | undefined) => {
  const policy = role?.node.tryFindChild('DefaultPolicy');
  if (!role || !(policy instanceof iam.Policy)) return;
  const document = Stack.of(policy).resolve(policy.document) as { Statement?: { Resource: unknown }[] };
  for (const statement of document.Statement ?? []) {
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    for (const resource of resources.map((value) => flatten(policy, value)).filter((flat) => flat.includes('*'))) {
      const reason = wildcardReasons.find(([pattern]) => pattern.test(resource))?.[1];
      if (reason) acknowledge(role, `AwsSolutions-IAM5[Resource::${resource}]`, reason);
    }
  }
};

const acknowledgeNoWaf = (api: apigateway.RestApi, what: string) =>
  acknowledge(
    api.deploymentStage,
    'AwsSolutions-APIG3',
    `${what}; stage throttling bounds the load, and a web ACL (billed per ACL and rule) can be associated without changing this stack.`,
  );

export const suppressAcceptedFindings = (webhook: PortalCredentialsWebhook) => {
  for (const fn of [
    ...Object.values(webhook.functions),
    ...(webhook.driftAudit ? [webhook.driftAudit.function] : []),
    webhook.historyStream.function,
  ]) {
    acknowledgeWildcardResources(fn.role);
    acknowledge(
      fn,
      'AwsSolutions-L1',
      'Pinned to nodejs24.x, the runtime the code is bundled (target node24) and tested for; moved deliberately with the toolchain (the `node` dev dependency).',
    );
  }

  for (const method of webhook.api.methods) {
    acknowledge(
      method,
      'AwsSolutions-APIG4',
      "Callers authenticate with the schemes the deployment names: HTTP Basic, static bearer tokens and an API-key header, which the function checks in constant time against Secrets Manager, and another issuer's OAuth access tokens, which it checks against that issuer's JWKS; API Gateway has no authorizer for these, and requests without the scheme's header never reach the function. The cognito and iam schemes are API Gateway's own authorizers.",
    );
    acknowledge(
      method,
      'AwsSolutions-COG4',
      "The Sensedia portal calls webhooks with HTTP Basic, and other callers with static tokens, API keys, another issuer's access tokens or AWS Signature Version 4 (the iam scheme): none of them presents Cognito tokens. The cognito scheme uses a Cognito authorizer.",
    );
  }
  acknowledge(
    webhook.historyStream.deadLetterQueue,
    'AwsSolutions-SQS3',
    'This queue is the dead-letter queue: it keeps the stream positions of registry changes the history could not record, and an alarm fires on its first message.',
  );

  acknowledgeNoWaf(webhook.api, 'Only the portal calls the webhook, authenticated; requests without credentials are refused by API Gateway');

  acknowledge(
    webhook.basicAuthSecret,
    'AwsSolutions-SMG4',
    'The pair must also be typed into the portal, so it is rotated by hand: add a second pair, update the portal, retire the first (docs/portal-administrators.md, "Changing the password without downtime").',
  );

  if (webhook.userPool instanceof cognito.UserPool) {
    acknowledge(
      webhook.userPool,
      'AwsSolutions-COG8',
      'The pool has no users, only machine-to-machine app clients; the Plus plan protects user sign-ins and would add cost for nothing.',
    );
    acknowledge(
      webhook.userPool,
      'AwsSolutions-COG2',
      'The pool has no users and no sign-in: app clients authenticate with their secret through the client-credentials grant, where MFA does not apply.',
    );
  }

  const cloudWatchRole = webhook.node.tryFindChild('ApiGatewayCloudWatchRole');
  if (cloudWatchRole instanceof iam.Role) {
    const managedPolicies = Stack.of(cloudWatchRole).resolve((cloudWatchRole.node.defaultChild as iam.CfnRole).managedPolicyArns) as unknown[];
    for (const arn of managedPolicies.map((value) => flatten(cloudWatchRole, value))) {
      acknowledge(
        cloudWatchRole,
        `AwsSolutions-IAM4[Policy::${arn}]`,
        "The Region's API Gateway CloudWatch role serves every API of the account, whose log groups are not known here; AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS made for it.",
      );
    }
  }

  const sample = webhook.sampleApi;
  if (sample) {
    acknowledge(sample.api, 'AwsSolutions-APIG2', 'The sample API has only GET methods without parameters or bodies: there is nothing to validate.');
    acknowledgeNoWaf(sample.api, 'A demonstration API answering from mock integrations, behind a usage plan or a token');
    for (const method of sample.api.methods.filter((m) => m.resource.path === '/orders')) {
      acknowledge(method, 'AwsSolutions-APIG4', 'GET /orders demonstrates API-key access through a usage plan, which is what the webhook issues.');
      acknowledge(method, 'AwsSolutions-COG4', 'GET /orders demonstrates API-key access; GET /payments demonstrates the Cognito authorizer.');
    }
  }
};
