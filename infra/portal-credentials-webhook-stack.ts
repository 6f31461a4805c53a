import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Schedule } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { issuesCredentialType } from '#commons/config';
import { functionDefaults } from '#commons/defaults';
import { suppressAcceptedFindings } from './nag-suppressions.ts';
import { PortalCredentialsWebhook } from './portal-credentials-webhook.ts';
import type { Settings } from './settings.ts';
import type { WebhookAuthenticationOptions } from './webhook-authentication.ts';

export interface PortalCredentialsWebhookStackProps extends StackProps {
  /** The validated cdk.json settings. */
  readonly settings: Settings;
}

/** The deployable unit: the webhook configured from cdk.json settings, and its outputs. */
export class PortalCredentialsWebhookStack extends Stack {
  public readonly webhook: PortalCredentialsWebhook;

  constructor(scope: Construct, id: string, props: PortalCredentialsWebhookStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const clientCredentials = settings.clientCredentials;

    this.webhook = new PortalCredentialsWebhook(this, 'Webhook', {
      credentialPolicy: settings.credentialPolicy,
      usagePlanIds: settings.usagePlanIds,
      ...(settings.registry.tableName
        ? {
            registryTable: dynamodb.Table.fromTableAttributes(this, 'ImportedRegistry', {
              tableName: settings.registry.tableName,
              ...(settings.registry.streamArn ? { tableStreamArn: settings.registry.streamArn } : {}),
            }),
          }
        : {}),
      ...(settings.history.tableName ? { historyTable: dynamodb.Table.fromTableName(this, 'ImportedHistory', settings.history.tableName) } : {}),
      sampleApi: settings.sampleApi.enabled,
      ...(settings.sampleApi.paymentsScope ? { samplePaymentsScope: settings.sampleApi.paymentsScope } : {}),
      ...(clientCredentials
        ? {
            clientCredentials: {
              ...(clientCredentials.userPoolId
                ? { userPool: cognito.UserPool.fromUserPoolId(this, 'ImportedUserPool', clientCredentials.userPoolId) }
                : {}),
              ...(clientCredentials.domainPrefix ? { domainPrefix: clientCredentials.domainPrefix } : {}),
              existingDomain: clientCredentials.existingDomain,
              existingResourceServers: clientCredentials.existingResourceServers,
              accessTokenValidity: Duration.minutes(clientCredentials.accessTokenValidityMinutes),
            },
          }
        : {}),
      stageName: settings.stageName,
      throttling: settings.throttling,
      logRetention: settings.logRetentionDays as RetentionDays,
      claimLease: Duration.seconds(settings.claim.leaseSeconds),
      claimWait: Duration.seconds(settings.claim.waitSeconds),
      detailedMetrics: settings.detailedMetrics,
      configureApiGatewayAccount: settings.configureApiGatewayAccount,
      authentication: webhookAuthentication(settings.authentication),
      historyRetention: Duration.days(settings.history.retentionDays),
      driftAudit: { enabled: settings.driftAudit.enabled, schedule: Schedule.expression(settings.driftAudit.schedule) },
    });

    const webhook = this.webhook;
    new CfnOutput(this, 'WebhookUrl', { value: webhook.url, description: 'Base URL to register in the portal (routes under v1/)' });
    // The ARN only: the secret's value is read once with the AWS CLI, never printed here.
    new CfnOutput(this, 'BasicAuthSecretArn', {
      value: webhook.basicAuthSecret.secretArn,
      description: 'Secret holding the Basic-auth pair for the portal',
    });
    if (webhook.authentication.callerClient) {
      new CfnOutput(this, 'WebhookCallerClientId', {
        value: webhook.authentication.callerClient.userPoolClientId,
        description: 'App client the caller fetches webhook/invoke tokens with (its secret: describe-user-pool-client)',
      });
    }
    if (webhook.authentication.callerRole) {
      new CfnOutput(this, 'WebhookCallerRoleArn', {
        value: webhook.authentication.callerRole.roleArn,
        description: 'Role the caller assumes to sign webhook requests (SigV4, service execute-api)',
      });
    }
    if (webhook.tokenUrl)
      new CfnOutput(this, 'TokenUrl', { value: webhook.tokenUrl, description: 'OAuth 2.0 token endpoint of issued client credentials' });
    if (webhook.sampleApi) {
      new CfnOutput(this, 'SampleApiUrl', {
        value: webhook.sampleApi.api.url,
        description: 'Sample API: GET orders (API key), GET payments (access token)',
      });
      new CfnOutput(this, 'SampleUsagePlanId', {
        value: webhook.sampleApi.usagePlan.usagePlanId,
        description: 'Usage plan id the portal names to link API keys to the sample API',
      });
      new CfnOutput(this, 'SampleApiId', { value: webhook.sampleApi.api.restApiId, description: 'REST API id the portal names for the sample API' });
    }

    // What the operator commands (portal-credentials audit, history, verify --stack NAME) read: the values the functions run with.
    new CfnOutput(this, 'DeploymentId', {
      value: this.stackName,
      description: 'The tag portal-deployment of the API keys this stack made (audit --deployment-id)',
    });
    new CfnOutput(this, 'RegistryTableName', { value: webhook.table.tableName, description: 'Registry table (audit --table)' });
    new CfnOutput(this, 'HistoryTableName', {
      value: webhook.history.table.tableName,
      description: 'History table (history --table, audit --history-table)',
    });
    new CfnOutput(this, 'HistoryRetentionDays', {
      value: String(settings.history.retentionDays),
      description: 'How long history entries are kept (audit --history-retention-days)',
    });
    new CfnOutput(this, 'ClaimLeaseSeconds', { value: String(settings.claim.leaseSeconds), description: 'The claim lease (audit --lease-seconds)' });
    if (issuesCredentialType(settings.credentialPolicy, 'API_KEY'))
      new CfnOutput(this, 'UsagePlanIds', {
        value: webhook.usagePlanIds.join(','),
        description: 'The usage plans the webhook links API keys to (audit --usage-plans)',
      });
    if (webhook.userPool) {
      new CfnOutput(this, 'UserPoolId', {
        value: webhook.userPool.userPoolId,
        description: 'User pool of issued client credentials (audit --user-pool-id)',
      });
      new CfnOutput(this, 'AccessTokenValidityMinutes', {
        value: String(clientCredentials?.accessTokenValidityMinutes ?? functionDefaults.accessTokenValidityMinutes),
        description: 'Access-token lifetime of issued client credentials (audit --access-token-validity-minutes)',
      });
    }

    suppressAcceptedFindings(webhook);
  }
}

/** The construct's authentication options from the validated cdk.json settings. */
const webhookAuthentication = (settings: Settings['authentication']): WebhookAuthenticationOptions => {
  const tokens = settings.accessTokens;
  const principal = settings.callerPrincipal;
  return {
    schemes: settings.schemes,
    apiKeyHeader: settings.apiKeyHeader,
    scope: settings.scope,
    callerAccessTokenValidity: Duration.minutes(settings.callerAccessTokenValidityMinutes),
    sourceIpAllowList: settings.sourceIpAllowList,
    ...(tokens
      ? {
          accessTokens: {
            issuer: tokens.issuer,
            ...(tokens.jwksUrl ? { jwksUrl: tokens.jwksUrl } : {}),
            audiences: tokens.audiences,
            clientIds: tokens.clientIds,
            jwksCacheTtl: Duration.seconds(tokens.jwksCacheSeconds),
            maxTokenAge: Duration.seconds(tokens.maxTokenAgeSeconds),
          },
        }
      : {}),
    ...(principal ? { callerPrincipal: /^\d{12}$/.test(principal) ? new iam.AccountPrincipal(principal) : new iam.ArnPrincipal(principal) } : {}),
  };
};
