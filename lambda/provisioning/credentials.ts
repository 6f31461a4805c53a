import { apiGateway, apiGatewayIn } from '#clients/api-gateway';
import { dynamodb } from '#clients/dynamodb';
import { cognito } from '#clients/cognito';
import { issuesCredentialType } from '#commons/config';
import { placeId } from '#commons/places';
import { logger } from '#commons/powertools';
import { settings } from '#commons/settings';
import { ApiKeyProvisioner } from './api-key-provisioner.ts';
import { ClientCredentialsProvisioner } from './client-credentials-provisioner.ts';
import { CapacityGauges } from './capacity.ts';
import { CapacityLedger } from './capacity-ledger.ts';
import { CredentialPolicy } from './credential-policy.ts';
import { placesElsewhere } from './key-places.ts';
import { CredentialsService } from './credentials-service.ts';
import { HistoryStore } from '#history/history-store';
import { Registry } from './registry.ts';
import { PlacedUsagePlans, UsagePlanCatalog } from './usage-plan-catalog.ts';

const { credentialPolicy, home } = settings;
const usagePlans = new UsagePlanCatalog(apiGateway);

/** Every place beyond its own that a provisioning target covers, each with its own client and plans. */
const elsewhere = placesElsewhere(home, credentialPolicy.targets).map(({ place, target }) => {
  const client = apiGatewayIn(place, target, settings.deploymentId, home.region);
  return { place, apiGateway: client, usagePlans: new UsagePlanCatalog(client) };
});
const plansEverywhere = new PlacedUsagePlans(
  home,
  new Map([[placeId(home), usagePlans], ...elsewhere.map(({ place, usagePlans: catalog }) => [placeId(place), catalog] as const)]),
);

/** The service the handlers call, wired once per container, with a provisioner for each type the policy issues. */
export const credentials = new CredentialsService({
  registry: new Registry(dynamodb, settings.registryTableName),
  policy: new CredentialPolicy(credentialPolicy, plansEverywhere, home),
  provisioners: [
    ...(issuesCredentialType(credentialPolicy, 'API_KEY')
      ? [new ApiKeyProvisioner(apiGateway, usagePlans, credentialPolicy.usagePlanIds, settings.deploymentId, { home, elsewhere })]
      : []),
    ...(settings.cognito ? [new ClientCredentialsProvisioner(cognito, { ...settings.cognito, deploymentId: settings.deploymentId })] : []),
  ],
  leaseMs: settings.claim.leaseMs,
  waitMs: settings.claim.waitMs,
  leaseMarginMs: settings.claim.leaseMarginMs,
  capacity: new CapacityLedger(
    new CapacityGauges(dynamodb, settings.registryTableName),
    settings.cognito ? { id: settings.cognito.userPoolId, appClientLimit: settings.cognito.appClientsQuota } : undefined,
  ),
  ...(settings.history
    ? {
        history: new HistoryStore(dynamodb, settings.history.tableName, settings.history.retentionDays, (entry, error) =>
          logger.error('Could not record a change in the history', { entry, errorName: (error as Error).name }),
        ),
      }
    : {}),
});
