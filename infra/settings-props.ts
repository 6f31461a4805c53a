import { Duration } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Schedule } from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { PortalCredentialsWebhookProps } from './portal-credentials-webhook.ts';
import type { Settings } from './settings.ts';
import type { WebhookAuthenticationOptions } from './webhook-authentication.ts';

/**
 * The construct's props from validated settings (`parseSettings`): what cdk.json carries, as CDK objects.
 * Tables and a user pool named by the settings are imported into `scope` (the stack), where their ids have always been.
 */
export const webhookPropsFromSettings = (scope: Construct, settings: Settings): PortalCredentialsWebhookProps => {
  const clientCredentials = settings.clientCredentials;
  return {
    credentialPolicy: settings.credentialPolicy,
    usagePlanIds: settings.usagePlanIds,
    ...(settings.registry.tableName
      ? {
          registryTable: dynamodb.Table.fromTableAttributes(scope, 'ImportedRegistry', {
            tableName: settings.registry.tableName,
            // The history is made from its stream: a kept registry comes with the stream's ARN.
            ...(settings.registry.streamArn ? { tableStreamArn: settings.registry.streamArn } : {}),
          }),
        }
      : {}),
    ...(settings.history.tableName ? { historyTable: dynamodb.Table.fromTableName(scope, 'ImportedHistory', settings.history.tableName) } : {}),
    sampleApi: settings.sampleApi.enabled,
    ...(settings.sampleApi.paymentsScope ? { samplePaymentsScope: settings.sampleApi.paymentsScope } : {}),
    ...(clientCredentials
      ? {
          clientCredentials: {
            ...(clientCredentials.userPoolId
              ? { userPool: cognito.UserPool.fromUserPoolId(scope, 'ImportedUserPool', clientCredentials.userPoolId) }
              : {}),
            ...(clientCredentials.domainPrefix ? { domainPrefix: clientCredentials.domainPrefix } : {}),
            existingDomain: clientCredentials.existingDomain,
            existingResourceServers: clientCredentials.existingResourceServers,
            accessTokenValidity: Duration.minutes(clientCredentials.accessTokenValidityMinutes),
            appClientsQuota: clientCredentials.appClientsQuota,
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
  };
};

/** The construct's authentication options from the validated settings. */
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
