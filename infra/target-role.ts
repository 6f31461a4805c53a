import { Aws, CfnOutput, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { accountIdPattern, planPlace, regionPattern } from '#commons/places';
import { apiGatewayArns, ownKeysOnly } from './route-permissions.ts';

export interface PortalCredentialsTargetRoleProps {
  /** The account the webhook is deployed in: only its principals may assume the role. */
  readonly webhookAccount: string;
  /**
   * The webhook's function roles (its create, update and revoke functions' and its audit's): only they may
   * assume the role, by `aws:PrincipalArn`, so a role the webhook's stack replaces keeps working once named again.
   *
   * @default - any principal of `webhookAccount` its own IAM policies allow (the webhook's functions are allowed exactly this role)
   */
  readonly webhookRoleArns?: readonly string[];
  /** What the webhook passes as `sts:ExternalId` (its provisioning target's `externalId`): 2-1224 letters, digits or `+=,.@:/-`. */
  readonly externalId: string;
  /** The Regions of this account whose API keys the webhook manages. */
  readonly regions: readonly string[];
  /**
   * The usage plans the webhook may link keys to, as its `usagePlanIds` name them: `account/region/planId`, this
   * account and one of `regions`.
   *
   * @default - any usage plan of `regions` (the webhook still refuses, with 422, plans it was not given)
   */
  readonly usagePlanIds?: readonly string[];
  /**
   * The role's name, for a roleArn known before deploying (IAM names are unique per account).
   *
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * The role another account provides for a PortalCredentialsWebhook (its provisioning target's `roleArn`): the
 * webhook's account may assume it with the agreed external id, and it may do with API keys and usage plans, in
 * the named Regions only, what the webhook's functions do in their own: make keys (tagged as the webhook's),
 * list them, read and delete only keys tagged `managed-by=portal-credentials-webhook`, link them to the named
 * plans, unlink them, read those plans and their keys for the audit.
 */
export class PortalCredentialsTargetRole extends Construct {
  public readonly role: iam.Role;
  /** What the webhook's provisioning target names as `roleArn`. */
  public readonly roleArn: string;

  constructor(scope: Construct, id: string, props: PortalCredentialsTargetRoleProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    const problems = targetRoleProblems(props, Token.isUnresolved(account) ? undefined : account);
    if (problems.length > 0) throw new Error(`Invalid PortalCredentialsTargetRole "${id}":\n${problems.map((p) => `  - ${p}`).join('\n')}`);

    const principalArns = props.webhookRoleArns ?? [];
    this.role = new iam.Role(this, 'Role', {
      ...(props.roleName ? { roleName: props.roleName } : {}),
      description: 'Portal credentials webhook of another account: its API keys and usage plan links here, nothing else',
      // The external id keeps another customer of the same webhook account from using this role (the confused deputy).
      assumedBy:
        principalArns.length > 0
          ? new iam.PrincipalWithConditions(new iam.AccountPrincipal(props.webhookAccount), { ArnEquals: { 'aws:PrincipalArn': [...principalArns] } })
          : new iam.AccountPrincipal(props.webhookAccount),
      externalIds: [props.externalId],
    });
    for (const statement of targetRolePermissions(props)) this.role.addToPolicy(statement);
    acknowledgeWildcards(this.role, props);

    this.roleArn = this.role.roleArn;
    new CfnOutput(this, 'RoleArn', {
      description: "The provisioning target's roleArn for the portal credentials webhook",
      value: this.roleArn,
    });
  }
}

/** What is wrong with the props, one sentence each, naming the prop. */
const targetRoleProblems = (props: PortalCredentialsTargetRoleProps, account: string | undefined): string[] => {
  const problems: string[] = [];
  if (!accountIdPattern.test(props.webhookAccount)) problems.push('webhookAccount: must be a 12-digit AWS account id');
  if (!/^[\w+=,.@:/-]{2,1224}$/.test(props.externalId)) problems.push('externalId: must be 2-1224 letters, digits or +=,.@:/-');
  if (props.regions.length === 0) problems.push('regions: must name at least one Region');
  for (const region of props.regions) if (!regionPattern.test(region)) problems.push(`regions: "${region}" is not an AWS Region name`);
  for (const arn of props.webhookRoleArns ?? []) {
    if (!arn.startsWith('arn:') || !arn.includes(`:iam::${props.webhookAccount}:role/`)) {
      problems.push(`webhookRoleArns: "${arn}" is not a role of account ${props.webhookAccount}`);
    }
  }
  for (const id of props.usagePlanIds ?? []) {
    const { place } = planPlace(id, { account: '', region: '' });
    if (!place.region || !props.regions.includes(place.region) || (account !== undefined && place.account !== account)) {
      problems.push(`usagePlanIds: "${id}" is not "account/region/planId" of this account and one of regions`);
    }
  }
  return problems;
};

/** The plans of each Region: the named ones, or every plan (`*`) when none are named. */
const regionPlans = (props: PortalCredentialsTargetRoleProps) =>
  props.regions.map((region) => ({
    region,
    usagePlanIds: props.usagePlanIds
      ? props.usagePlanIds
          .map((id) => planPlace(id, { account: '', region: '' }))
          .flatMap(({ place, planId }) => (place.region === region ? [planId] : []))
      : ['*'],
  }));

const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
  new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) });

/** The union of what the webhook's create, update and revoke functions and its audit do with API keys in their own Region (infra/route-permissions.ts). */
export const targetRolePermissions = (props: PortalCredentialsTargetRoleProps): iam.PolicyStatement[] => {
  const partition = Aws.PARTITION;
  const arns = apiGatewayArns(partition, regionPlans(props));
  return [
    allow('CreateApiKeys', ['apigateway:POST'], arns.everywhere('/apikeys')),
    // CreateApiKey with tags is also authorized as a tagging PUT on the new key's (URL-encoded) ARN.
    allow(
      'TagNewApiKeys',
      ['apigateway:PUT'],
      [
        ...arns.everywhere((region) => `/tags/arn%3?${partition}%3?apigateway%3?${region}%3?%3?%2?apikeys%2?*`),
        ...arns.everywhere((region) => `/tags/arn:${partition}:apigateway:${region}::/apikeys/*`),
      ],
    ),
    allow('ListApiKeys', ['apigateway:GET'], arns.everywhere('/apikeys')),
    allow('ReadOwnApiKeys', ['apigateway:GET'], arns.everywhere('/apikeys/*'), ownKeysOnly),
    allow('DeleteOwnApiKeys', ['apigateway:DELETE'], arns.everywhere('/apikeys/*'), ownKeysOnly),
    allow('ListUsagePlans', ['apigateway:GET'], arns.everywhere('/usageplans')),
    // GetUsagePlan (a plan's API stages), GetUsagePlanKeys (the audit), GetUsagePlanKey (a link answered "conflict").
    allow('ReadUsagePlans', ['apigateway:GET'], [...arns.plans(''), ...arns.plans('/keys'), ...arns.plans('/keys/*')]),
    allow('LinkApiKeysToUsagePlans', ['apigateway:POST'], arns.plans('/keys')),
    allow('UnlinkApiKeysFromUsagePlans', ['apigateway:DELETE'], arns.plans('/keys/*')),
  ].filter((statement) => statement.hasResource);
};

/**
 * Acknowledges, on the role, the AwsSolutions-IAM5 findings of its wildcard resources, each with its reason. The
 * finding id is the resource as cdk-nag flattens it (`Ref: AWS::Partition` becomes `<AWS::Partition>`); this
 * construct builds them itself, so that the package needs no cdk-nag, and a test runs cdk-nag on it.
 */
const acknowledgeWildcards = (role: iam.Role, props: PortalCredentialsTargetRoleProps) => {
  const flat = (region: string, path: string) => `arn:<AWS::Partition>:apigateway:${region}::${path}`;
  const acknowledge = (resource: string, reason: string) =>
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  for (const { region, usagePlanIds } of regionPlans(props)) {
    acknowledge(
      flat(region, '/apikeys/*'),
      'API key ids are made by CreateApiKey at runtime; reading and deleting a key is allowed only when it is tagged managed-by=portal-credentials-webhook.',
    );
    const reason =
      'CreateApiKey with tags is also authorized as a tagging PUT on the new key, whose id does not exist before the call; API keys only.';
    acknowledge(flat(region, `/tags/arn%3?<AWS::Partition>%3?apigateway%3?${region}%3?%3?%2?apikeys%2?*`), reason);
    acknowledge(flat(region, `/tags/arn:<AWS::Partition>:apigateway:${region}::/apikeys/*`), reason);
    for (const planId of usagePlanIds) {
      acknowledge(flat(region, `/usageplans/${planId}/keys/*`), 'A usage plan key is named by the API key id, made at runtime; the plan is named.');
      if (planId === '*') {
        const any = 'No usagePlanIds were named: any usage plan of the Region (the webhook refuses, with 422, plans it was not configured with).';
        acknowledge(flat(region, '/usageplans/*'), any);
        acknowledge(flat(region, '/usageplans/*/keys'), any);
      }
    }
  }
};
