import { apiGateway } from '#clients/api-gateway';
import { dynamodb } from '#clients/dynamodb';
import { cognito } from '#clients/cognito';
import { issuesCredentialType } from '#commons/config';
import { logger } from '#commons/powertools';
import { settings } from '#commons/settings';
import { ApiKeyProvisioner } from './api-key-provisioner.ts';
import { ClientCredentialsProvisioner } from './client-credentials-provisioner.ts';
import { CredentialPolicy } from './credential-policy.ts';
import { CredentialsService } from './credentials-service.ts';
import { HistoryStore } from '#history/history-store';
import { Registry } from './registry.ts';
import { UsagePlanCatalog } from './usage-plan-catalog.ts';

const { credentialPolicy } = settings;
const usagePlans = new UsagePlanCatalog(apiGateway);

/** The service the handlers call, wired once per container, with a provisioner for each type the policy issues. */
export const credentials = new CredentialsService({
  registry: new Registry(dynamodb, settings.registryTableName),
  policy: new CredentialPolicy(credentialPolicy, usagePlans),
  provisioners: [
    ...(issuesCredentialType(credentialPolicy, 'API_KEY')
      ? [new ApiKeyProvisioner(apiGateway, usagePlans, credentialPolicy.usagePlanIds, settings.deploymentId)]
      : []),
    ...(settings.cognito ? [new ClientCredentialsProvisioner(cognito, { ...settings.cognito, deploymentId: settings.deploymentId })] : []),
  ],
  leaseMs: settings.claim.leaseMs,
  waitMs: settings.claim.waitMs,
  leaseMarginMs: settings.claim.leaseMarginMs,
  ...(settings.history
    ? {
        history: new HistoryStore(dynamodb, settings.history.tableName, settings.history.retentionDays, (entry, error) =>
          logger.error('Could not record a change in the history', { entry, errorName: (error as Error).name }),
        ),
      }
    : {}),
});
