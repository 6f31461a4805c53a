import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PortalCredentialsWebhook } from './portal-credentials-webhook.ts';

/**
 * The stack outputs the portal's administrators, the callers and the operator commands read
 * (`portal-credentials audit|history|verify --stack NAME` find a deployment by these names).
 * Add them to the stack itself (`scope`): in a nested construct CloudFormation would prefix their names.
 */
export const addWebhookOutputs = (scope: Construct, webhook: PortalCredentialsWebhook) => {
  new CfnOutput(scope, 'WebhookUrl', { value: webhook.url, description: 'Base URL to register in the portal (routes under v1/)' });
  // The ARN only: the secret's value is read once with the AWS CLI, never printed here.
  new CfnOutput(scope, 'BasicAuthSecretArn', {
    value: webhook.basicAuthSecret.secretArn,
    description: 'Secret holding the Basic-auth pair for the portal',
  });
  if (webhook.authentication.callerClient) {
    new CfnOutput(scope, 'WebhookCallerClientId', {
      value: webhook.authentication.callerClient.userPoolClientId,
      description: 'App client the caller fetches webhook/invoke tokens with (its secret: describe-user-pool-client)',
    });
  }
  if (webhook.authentication.callerRole) {
    new CfnOutput(scope, 'WebhookCallerRoleArn', {
      value: webhook.authentication.callerRole.roleArn,
      description: 'Role the caller assumes to sign webhook requests (SigV4, service execute-api)',
    });
  }
  if (webhook.tokenUrl)
    new CfnOutput(scope, 'TokenUrl', { value: webhook.tokenUrl, description: 'OAuth 2.0 token endpoint of issued client credentials' });
  if (webhook.sampleApi) {
    new CfnOutput(scope, 'SampleApiUrl', {
      value: webhook.sampleApi.api.url,
      description: 'Sample API: GET orders (API key), GET payments (access token)',
    });
    new CfnOutput(scope, 'SampleUsagePlanId', {
      value: webhook.sampleApi.usagePlan.usagePlanId,
      description: 'Usage plan id the portal names to link API keys to the sample API',
    });
    new CfnOutput(scope, 'SampleApiId', { value: webhook.sampleApi.api.restApiId, description: 'REST API id the portal names for the sample API' });
  }

  // What the operator commands (portal-credentials audit, history, verify --stack NAME) read: the values the functions run with.
  new CfnOutput(scope, 'DeploymentId', {
    value: webhook.deploymentId,
    description: 'The tag portal-deployment of the API keys this stack made (audit --deployment-id)',
  });
  new CfnOutput(scope, 'DeploymentAccountId', {
    value: Stack.of(scope).account,
    description: "The webhook's own account: API keys of APIs the policy places nowhere else live there (audit --account)",
  });
  if (webhook.places.targets.length > 0)
    new CfnOutput(scope, 'ProvisioningTargets', {
      value: JSON.stringify(webhook.places.targets),
      description: 'The other accounts and Regions the webhook makes API keys in, and the roles it reaches them through (audit --targets)',
    });
  new CfnOutput(scope, 'RegistryTableName', { value: webhook.table.tableName, description: 'Registry table (audit --table)' });
  new CfnOutput(scope, 'HistoryTableName', {
    value: webhook.history.table.tableName,
    description: 'History table (history --table, audit --history-table)',
  });
  new CfnOutput(scope, 'HistoryRetentionDays', {
    value: String(webhook.historyRetention.toDays()),
    description: 'How long history entries are kept (audit --history-retention-days)',
  });
  new CfnOutput(scope, 'ClaimLeaseSeconds', {
    value: String(webhook.claimLease.toSeconds()),
    description: 'The claim lease (audit --lease-seconds)',
  });
  if (webhook.issuesApiKeys)
    new CfnOutput(scope, 'UsagePlanIds', {
      value: webhook.usagePlanIds.join(','),
      description: 'The usage plans the webhook links API keys to (audit --usage-plans)',
    });
  if (webhook.userPool && webhook.accessTokenValidity) {
    new CfnOutput(scope, 'UserPoolId', {
      value: webhook.userPool.userPoolId,
      description: 'User pool of issued client credentials (audit --user-pool-id)',
    });
    new CfnOutput(scope, 'AppClientsQuota', {
      value: String(webhook.appClientsQuota),
      description: "The user pool's quota of app clients the webhook counts against (audit --app-clients-quota)",
    });
    new CfnOutput(scope, 'AccessTokenValidityMinutes', {
      value: String(webhook.accessTokenValidity.toMinutes()),
      description: 'Access-token lifetime of issued client credentials (audit --access-token-validity-minutes)',
    });
  }
};
