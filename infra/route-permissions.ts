import * as iam from 'aws-cdk-lib/aws-iam';
import { managedByTag, managedByValue } from '#provisioning/api-key-provisioner';

/** The webhook's four routes, one function each. */
export type WebhookRoute = 'create' | 'update' | 'revoke' | 'health';

/** The resources a route's function may touch, as ARNs (or tokens resolving to ARNs). */
export interface RouteResources {
  readonly basicAuthSecretArn: string;
  readonly tableArn: string;
  readonly credentialIdIndexArn: string;
  /** Set when the deployment issues API keys. */
  readonly apiKeys?: {
    readonly partition: string;
    readonly region: string;
    /** The usage plans of the webhook's own Region keys may be linked to: exactly these, never any plan of the account. */
    readonly usagePlanIds: readonly string[];
    /** The webhook's own account's other Regions a provisioning target lists, each with the usage plans named there. */
    readonly otherRegions?: readonly RegionPlans[];
    /** The roles other accounts provide for the webhook (`sts:AssumeRole`); their own policies say what they may do there. */
    readonly roleArns?: readonly string[];
  };
  /** Set when the deployment issues client credentials. */
  readonly userPoolArn?: string;
}

const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
  new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) });

/**
 * Up to this many usage plans, each plan's ARN is listed; beyond, one pattern covers every plan
 * of the Region. IAM has no condition naming a plan (its tags would do, but the plans are the
 * portal's, not the stack's), and three ARNs a plan for 300 plans pass IAM's 10,240 characters
 * of inline policy per role: the functions' allow-list then keeps keys out of other plans.
 */
export const MAX_PLANS_SCOPED_BY_ARN = 20;

/** Keys the webhook made carry this tag: reading a key's value or deleting a key needs it. */
export const ownKeysOnly = { StringEquals: { [`aws:ResourceTag/${managedByTag}`]: managedByValue } };

/**
 * Every AWS call a route's code can make, and nothing else, derived from `lambda/`:
 *
 * - every route reads the Basic-auth secret (`http/accepted-credentials.ts`, GetSecretValue);
 * - create claims, reads, activates, releases and marks the registry record
 *   (`provisioning/registry.ts`: PutItem, GetItem, UpdateItem, DeleteItem), and through a
 *   provisioner creates, reveals, cleans up leftovers of and deletes credentials; a repeated
 *   create whose APIs changed also regrants, as update does;
 * - create and update read the API stages of the usage plans asked for (GetUsagePlan);
 * - update finds the record by credential id on the GSI or by app key (Query, GetItem),
 *   checks the credential still exists, relinks usage plans or updates the app client,
 *   and records the new grant (UpdateItem);
 * - revoke finds the record the same way (or, by id before the index shows it, through the
 *   credential itself), deletes the credential or, after taking over
 *   an interrupted create's claim (PutItem), its leftovers, and marks the record revoked
 *   (UpdateItem);
 * - health only proves the secret is readable.
 *
 * API Gateway's control plane authorizes HTTP verbs on resource paths
 * (`arn:<partition>:apigateway:<region>::/apikeys/<id>`), not operation names.
 */
/** `/usageplans/<id><suffix>` for each plan, or for every plan when there are too many to list within IAM's policy size. */
export const usagePlanArns = (apigateway: (path: string) => string, planIds: readonly string[], suffix: string): string[] =>
  planIds.length > MAX_PLANS_SCOPED_BY_ARN ? [apigateway(`/usageplans/*${suffix}`)] : planIds.map((id) => apigateway(`/usageplans/${id}${suffix}`));

export type RegionPlans = { readonly region: string; readonly usagePlanIds: readonly string[] };

/** API Gateway ARNs in each of `places` (Regions of the webhook's own account), and the usage plans named there. */
export const apiGatewayArns = (partition: string, places: readonly RegionPlans[]) => {
  const arn = (region: string, path: string) => `arn:${partition}:apigateway:${region}::${path}`;
  return {
    /** `path` in every Region. */
    everywhere: (path: string | ((region: string) => string)) =>
      places.map(({ region }) => arn(region, typeof path === 'string' ? path : path(region))),
    /** `/usageplans/<id><suffix>` for each Region's plans. */
    plans: (suffix: string) => places.flatMap(({ region, usagePlanIds }) => usagePlanArns((path) => arn(region, path), usagePlanIds, suffix)),
  };
};

/** Assuming the roles other accounts provide: exactly those, no condition (the external id is checked by their trust policies). */
export const assumeTargetRoles = (apiKeys: RouteResources['apiKeys']): iam.PolicyStatement[] =>
  apiKeys?.roleArns && apiKeys.roleArns.length > 0 ? [allow('AssumeProvisioningTargetRoles', ['sts:AssumeRole'], [...apiKeys.roleArns])] : [];

export const routePermissions = (route: WebhookRoute, r: RouteResources): iam.PolicyStatement[] => {
  const statements = [allow('ReadBasicAuthSecret', ['secretsmanager:GetSecretValue'], [r.basicAuthSecretArn])];
  const partition = r.apiKeys?.partition;
  const places = r.apiKeys
    ? apiGatewayArns(r.apiKeys.partition, [{ region: r.apiKeys.region, usagePlanIds: r.apiKeys.usagePlanIds }, ...(r.apiKeys.otherRegions ?? [])])
    : undefined;
  const apigateway = (path: string | ((region: string) => string)) => places?.everywhere(path) ?? [];
  const planArns = (suffix: string) => places?.plans(suffix) ?? [];
  const plans = planArns('');
  const planKeys = planArns('/keys');
  const planKey = planArns('/keys/*');
  // GetApiKeys lists the Region's keys (names and tags, not values): leftovers are found by name.
  const listApiKeys = () => allow('ListApiKeys', ['apigateway:GET'], apigateway('/apikeys'));
  // GetApiKey (with the value) and DeleteApiKey: only on keys tagged as the webhook's. A key that
  // no longer exists carries no tag, so IAM may refuse it: the provisioner then checks the list.
  const readOwnApiKeys = () => allow('ReadOwnApiKeys', ['apigateway:GET'], apigateway('/apikeys/*'), ownKeysOnly);
  const deleteOwnApiKeys = () => allow('DeleteOwnApiKeys', ['apigateway:DELETE'], apigateway('/apikeys/*'), ownKeysOnly);

  switch (route) {
    case 'create':
      statements.push(
        allow('RegistryClaimAndRecord', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [r.tableArn]),
      );
      if (r.apiKeys) {
        statements.push(
          // GetUsagePlan: the policy checks the API stages of the plans asked for before anything is made.
          allow('ReadUsagePlans', ['apigateway:GET'], plans),
          allow('CreateApiKeys', ['apigateway:POST'], apigateway('/apikeys')),
          // CreateApiKey with tags is also authorized as a tagging PUT on /tags/<URL-encoded ARN of the
          // new key>, whose id does not exist yet: API keys of the Regions it serves only, the ARN URL-encoded
          // (either case of hex digits) or not.
          allow(
            'TagNewApiKeys',
            ['apigateway:PUT'],
            [
              ...apigateway((region) => `/tags/arn%3?${partition}%3?apigateway%3?${region}%3?%3?%2?apikeys%2?*`),
              ...apigateway((region) => `/tags/arn:${partition}:apigateway:${region}::/apikeys/*`),
            ],
          ),
          listApiKeys(),
          // Reveal a repeated create's key.
          readOwnApiKeys(),
          // Undo a failed link, remove leftovers, drop an unrecorded key: ids are made at runtime.
          deleteOwnApiKeys(),
          allow('LinkApiKeysToUsagePlans', ['apigateway:POST'], planKeys),
          // GetUsagePlanKey: a link answered "conflict" is checked before it is taken as done.
          allow('VerifyUsagePlanLinks', ['apigateway:GET'], planKey),
          // A repeated create whose plans changed relinks the key, as update does.
          allow('ListUsagePlans', ['apigateway:GET'], apigateway('/usageplans')),
          allow('UnlinkApiKeysFromUsagePlans', ['apigateway:DELETE'], planKey),
        );
      }
      if (r.userPoolArn) {
        statements.push(
          allow(
            'ManageAppClients',
            [
              'cognito-idp:CreateUserPoolClient',
              'cognito-idp:DescribeUserPoolClient',
              'cognito-idp:UpdateUserPoolClient',
              'cognito-idp:DeleteUserPoolClient',
              'cognito-idp:ListUserPoolClients',
            ],
            [r.userPoolArn],
          ),
        );
      }
      break;
    case 'update':
      statements.push(
        allow('RegistryFindByCredentialId', ['dynamodb:Query'], [r.credentialIdIndexArn]),
        allow('RegistryReadAndRecordGrant', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [r.tableArn]),
      );
      if (r.apiKeys) {
        statements.push(
          // GetUsagePlan: the policy checks the API stages of the plans asked for before anything changes.
          allow('ReadUsagePlans', ['apigateway:GET'], plans),
          // GetApiKey: a key deleted outside the webhook is answered 409, not relinked.
          readOwnApiKeys(),
          listApiKeys(),
          // GetUsagePlans filtered by keyId: AWS, not the registry, is the truth about links.
          allow('ListUsagePlans', ['apigateway:GET'], apigateway('/usageplans')),
          allow('LinkApiKeysToUsagePlans', ['apigateway:POST'], planKeys),
          allow('VerifyUsagePlanLinks', ['apigateway:GET'], planKey),
          allow('UnlinkApiKeysFromUsagePlans', ['apigateway:DELETE'], planKey),
        );
      }
      if (r.userPoolArn) {
        statements.push(allow('UpdateAppClients', ['cognito-idp:DescribeUserPoolClient', 'cognito-idp:UpdateUserPoolClient'], [r.userPoolArn]));
      }
      break;
    case 'revoke':
      statements.push(
        allow('RegistryFindByCredentialId', ['dynamodb:Query'], [r.credentialIdIndexArn]),
        // PutItem: revoking an app whose create crashed first takes over its expired claim.
        allow('RegistryReadAndMarkRevoked', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [r.tableArn]),
      );
      if (r.apiKeys) {
        statements.push(
          // GetApiKeys: an interrupted create's leftovers are found by name. GetApiKey: a key named by id
          // alone that the registry's index does not show yet is placed by its app tag.
          listApiKeys(),
          readOwnApiKeys(),
          deleteOwnApiKeys(),
        );
      }
      if (r.userPoolArn) {
        statements.push(
          allow(
            'DeleteAppClients',
            ['cognito-idp:DeleteUserPoolClient', 'cognito-idp:DescribeUserPoolClient', 'cognito-idp:ListUserPoolClients'],
            [r.userPoolArn],
          ),
        );
      }
      break;
    case 'health':
      break;
  }
  // Keys of other accounts are made, read, linked and deleted through the role each account provides.
  if (route !== 'health') statements.push(...assumeTargetRoles(r.apiKeys));
  // A Region without plans of its own (its plans all in another account) leaves a plan statement with nothing to name.
  return statements.filter((statement) => statement.hasResource);
};

/**
 * What the drift audit (infra/drift-audit.ts, whose role reads the webhook's own Region) needs beyond its own
 * Region: the same reads in each other Region of the webhook's account, and the other accounts' roles.
 */
export const auditPermissionsElsewhere = (apiKeys: NonNullable<RouteResources['apiKeys']>): iam.PolicyStatement[] => {
  const elsewhere = apiGatewayArns(apiKeys.partition, apiKeys.otherRegions ?? []);
  // The audit's own statements need a plan of its Region; without one, its Region's keys are listed from here.
  const home = apiKeys.usagePlanIds.length === 0 ? apiGatewayArns(apiKeys.partition, [{ region: apiKeys.region, usagePlanIds: [] }]) : undefined;
  return [
    allow('ReadApiKeysElsewhere', ['apigateway:GET'], [...(home?.everywhere('/apikeys') ?? []), ...elsewhere.everywhere('/apikeys')]),
    allow('ReadUsagePlanLinksElsewhere', ['apigateway:GET'], elsewhere.plans('/keys')),
    ...assumeTargetRoles(apiKeys),
  ].filter((statement) => statement.hasResource);
};
