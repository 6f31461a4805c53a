import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { AdaptiveRetryStrategy } from '@smithy/core/retry';
import type { Place, ProvisioningTarget } from '#commons/places';
import { recordAttemptOutcomes } from './attempt-outcomes.ts';
import { fencedByTurns } from './turns.ts';
import { awsClientSettings, isResourceQuotaRefusal, notRetrying } from './retry-settings.ts';

const settings = () => ({
  ...awsClientSettings,
  retryStrategy: notRetrying(isResourceQuotaRefusal, new AdaptiveRetryStrategy(awsClientSettings.maxAttempts)),
});

/** Every API Gateway client the functions use: retried, their attempts recorded, and fenced by the caller's turn. */
const fenced = (client: APIGatewayClient) => {
  client.middlewareStack.use(recordAttemptOutcomes);
  client.middlewareStack.use(fencedByTurns);
  return client;
};

/** The API Gateway of the webhook's own account and Region. */
export const apiGateway = fenced(new APIGatewayClient(settings()));

/**
 * The API Gateway of another place a provisioning target covers: another Region of the webhook's own
 * account with its own role, or another account through the role that account provides. The SDK keeps
 * an assumed role's credentials until shortly before they expire: one AssumeRole per container and
 * hour, not one per call. The session is named after the deployment, so CloudTrail in the other
 * account tells which webhook acted.
 */
export const apiGatewayIn = (place: Place, target: ProvisioningTarget | undefined, sessionName: string, homeRegion: string): APIGatewayClient => {
  const credentials =
    target?.roleArn === undefined
      ? {}
      : {
          credentials: fromTemporaryCredentials({
            params: { RoleArn: target.roleArn, RoleSessionName: sessionName, ...(target.externalId ? { ExternalId: target.externalId } : {}) },
            clientConfig: { region: homeRegion },
          }),
        };
  return fenced(new APIGatewayClient({ ...settings(), region: place.region, ...credentials }));
};
