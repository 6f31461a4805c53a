import { APIGatewayClient, CreateApiKeyCommand, DeleteApiKeyCommand, DeleteUsagePlanKeyCommand } from '@aws-sdk/client-api-gateway';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { afterAll } from 'vitest';
import { functionDefaults } from '#commons/defaults';
import { type PlaceId, parsePlaceId, placeId } from '#commons/places';
import { appKeyTag, deploymentTag, managedByTag, managedByValue } from '#provisioning/api-key-provisioner';
import type { AuditTarget } from '../../lambda/audit/audit.ts';
import { type LocalWebhook, localCredentialPolicy, localPlaces } from '../../local/local-webhook.ts';
import { localAudit } from './audit.ts';

const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The local webhook's places: its own, another Region of its account, and the partner account behind a role. */
export const places = {
  home: placeId({ account: functionDefaults.accountId, region: 'us-east-1' }),
  europe: placeId(localPlaces.europe),
  partner: placeId(localPlaces.partner),
} as const;

/** Each place's usage plan as grants name it (a bare id at home). */
export const placedPlans = {
  home: '1el57v',
  europe: `${places.europe}/${localPlaces.europe.usagePlanId}`,
  partner: `${places.partner}/${localPlaces.partner.usagePlanId}`,
} as const;

/** The audit of the local webhook's API keys in all three places, reached as the functions reach them. */
export const placesAudit = (webhook: LocalWebhook, target: Partial<AuditTarget> = {}) =>
  localAudit(webhook, {
    apiKeys: {
      deploymentId: functionDefaults.deploymentId,
      linkableUsagePlanIds: [placedPlans.home, '2fm68w', '5ip91z', placedPlans.europe, placedPlans.partner],
      home: parsePlaceId(places.home),
      targets: localCredentialPolicy.targets ?? [],
    },
    ...target,
  });

/** Changes made by hand in any place (the partner account's through its role), as a person with console access would. */
export const outOfBandIn = (webhook: LocalWebhook) => {
  const clients = new Map<PlaceId, APIGatewayClient>();
  afterAll(() => {
    for (const client of clients.values()) client.destroy();
  });
  const partnerTarget = localCredentialPolicy.targets?.find((target) => target.account === localPlaces.partner.account);
  const client = (place: PlaceId) => {
    const known = clients.get(place);
    if (known) return known;
    const { account, region } = parsePlaceId(place);
    const endpoint = webhook.controlPlane.url;
    const credentials =
      account === functionDefaults.accountId
        ? localCredentials
        : fromTemporaryCredentials({
            params: { RoleArn: partnerTarget?.roleArn as string, RoleSessionName: 'by-hand', ExternalId: partnerTarget?.externalId as string },
            clientConfig: { region: 'us-east-1', endpoint, credentials: localCredentials },
          });
    const made = new APIGatewayClient({ region, endpoint, credentials });
    clients.set(place, made);
    return made;
  };
  return {
    /** A key named and tagged as the webhook makes them, in `place`, with `value` when given. */
    createWebhookLikeKey: async (place: PlaceId, appKey: string, value?: string) =>
      (
        await client(place).send(
          new CreateApiKeyCommand({
            name: `portal-${appKey}`,
            enabled: true,
            ...(value ? { value } : {}),
            tags: { [managedByTag]: managedByValue, [appKeyTag]: appKey, [deploymentTag]: functionDefaults.deploymentId },
          }),
        )
      ).id as string,
    deleteKey: (place: PlaceId, apiKey: string) => client(place).send(new DeleteApiKeyCommand({ apiKey })),
    unlink: (place: PlaceId, keyId: string, usagePlanId: string) => client(place).send(new DeleteUsagePlanKeyCommand({ usagePlanId, keyId })),
  };
};
