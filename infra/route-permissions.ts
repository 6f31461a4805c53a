import * as iam from 'aws-cdk-lib/aws-iam';

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
    /** The usage plans keys may be linked to: exactly these, never any plan of the account. */
    readonly usagePlanIds: readonly string[];
  };
  /** Set when the deployment issues client credentials. */
  readonly userPoolArn?: string;
}

const allow = (sid: string, actions: string[], resources: string[]) => new iam.PolicyStatement({ sid, actions, resources });

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
 * - revoke finds the record the same way, deletes the credential or, after taking over
 *   an interrupted create's claim (PutItem), its leftovers, and marks the record revoked
 *   (UpdateItem);
 * - health only proves the secret is readable.
 *
 * API Gateway's control plane authorizes HTTP verbs on resource paths
 * (`arn:<partition>:apigateway:<region>::/apikeys/<id>`), not operation names.
 */
export const routePermissions = (route: WebhookRoute, r: RouteResources): iam.PolicyStatement[] => {
  const statements = [allow('ReadBasicAuthSecret', ['secretsmanager:GetSecretValue'], [r.basicAuthSecretArn])];
  const apigateway = (path: string) => `arn:${r.apiKeys?.partition}:apigateway:${r.apiKeys?.region}::${path}`;
  const plans = r.apiKeys?.usagePlanIds.map((id) => apigateway(`/usageplans/${id}`)) ?? [];
  const planKeys = r.apiKeys?.usagePlanIds.map((id) => apigateway(`/usageplans/${id}/keys`)) ?? [];
  const planKey = r.apiKeys?.usagePlanIds.map((id) => apigateway(`/usageplans/${id}/keys/*`)) ?? [];

  switch (route) {
    case 'create':
      statements.push(
        allow('RegistryClaimAndRecord', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [r.tableArn]),
      );
      if (r.apiKeys) {
        statements.push(
          // GetUsagePlan: the policy checks the API stages of the plans asked for before anything is made.
          allow('ReadUsagePlans', ['apigateway:GET'], plans),
          allow('CreateApiKeys', ['apigateway:POST'], [apigateway('/apikeys')]),
          // CreateApiKey with tags is also authorized as a tagging PUT on the new key's
          // /tags/<url-encoded ARN>; that ARN holds an id that does not exist yet.
          allow('TagNewApiKeys', ['apigateway:PUT'], [apigateway('/tags/*')]),
          // GetApiKey (reveal a repeated create) and GetApiKeys (find leftovers by name).
          allow('ReadApiKeys', ['apigateway:GET'], [apigateway('/apikeys'), apigateway('/apikeys/*')]),
          // Undo a failed link, remove leftovers, drop an unrecorded key: ids are made at runtime.
          allow('DeleteApiKeys', ['apigateway:DELETE'], [apigateway('/apikeys/*')]),
          allow('LinkApiKeysToUsagePlans', ['apigateway:POST'], planKeys),
          // GetUsagePlanKey: a link answered "conflict" is checked before it is taken as done.
          allow('VerifyUsagePlanLinks', ['apigateway:GET'], planKey),
          // A repeated create whose plans changed relinks the key, as update does.
          allow('ListUsagePlans', ['apigateway:GET'], [apigateway('/usageplans')]),
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
          allow('ReadApiKey', ['apigateway:GET'], [apigateway('/apikeys/*')]),
          // GetUsagePlans filtered by keyId: AWS, not the registry, is the truth about links.
          allow('ListUsagePlans', ['apigateway:GET'], [apigateway('/usageplans')]),
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
          // GetApiKeys: an interrupted create's leftovers are found by name.
          allow('FindLeftoverApiKeys', ['apigateway:GET'], [apigateway('/apikeys')]),
          allow('DeleteApiKeys', ['apigateway:DELETE'], [apigateway('/apikeys/*')]),
        );
      }
      if (r.userPoolArn) {
        statements.push(allow('DeleteAppClients', ['cognito-idp:DeleteUserPoolClient', 'cognito-idp:ListUserPoolClients'], [r.userPoolArn]));
      }
      break;
    case 'health':
      break;
  }
  return statements;
};
