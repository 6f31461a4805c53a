import { type APIGatewayClient, paginateGetApiKeys, paginateGetUsagePlanKeys, paginateGetUsagePlans } from '@aws-sdk/client-api-gateway';
import {
  type CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  paginateListUserPoolClients,
} from '@aws-sdk/client-cognito-identity-provider';
import { functionDefaults } from '#commons/defaults';
import { type Place, type PlaceId, placedPlanId, placeId, planPlace } from '#commons/places';
import type { CredentialType } from '#contract/schemas';
import { isOwnKey } from '#provisioning/api-key-provisioner';
import { isNotFound } from '#provisioning/aws-failures';
import { isOwnAppClientName } from '#provisioning/provisioner';
import type { CredentialRecord, Registry } from '#provisioning/registry';
import { isReservedItem } from '#provisioning/registry';
import { type Acknowledgement, acknowledgementOf } from './acknowledgements.ts';
import { placedKeysOf } from '#provisioning/key-places';

/** An API key this deployment tagged as its own (or that the registry names). Never its value. */
export interface InventoryApiKey {
  credentialType: 'API_KEY';
  credentialId: string;
  /** The account and Region the key lives in (`account/region`): key ids are unique only there. */
  place: PlaceId;
  name: string;
  enabled: boolean;
  /** The plans (among those the audit reads) the key is linked to, as grants name them (`account/region/id` elsewhere). */
  usagePlanIds: string[];
}

/** An app client of the pool named as the webhook names them (or that the registry names). Never its secret. */
export interface InventoryAppClient {
  credentialType: 'CLIENT_CREDENTIALS';
  credentialId: string;
  name: string;
  scopes: string[];
  clientCredentialsFlow: boolean;
}

export type InventoryCredential = InventoryApiKey | InventoryAppClient;

/** A credential the webhook did not make: listed, never touched. */
export interface ForeignCredential {
  credentialType: CredentialType;
  credentialId: string;
  name: string;
  /** An API key's place. */
  place?: PlaceId;
}

export interface Inventory {
  /** When the registry was read (epoch ms): claims are judged against this instant. */
  readAt: number;
  /** The apps' records; the table's reserved items (acknowledgements) are not apps and are kept apart. */
  records: CredentialRecord[];
  acknowledgements: Acknowledgement[];
  credentials: InventoryCredential[];
  foreign: ForeignCredential[];
  /** The usage plans whose links were read, as grants name them; links to any other plan are not the webhook's business. */
  usagePlanIds: string[];
  /** The webhook's own place: records without `placedIds` and bare plan ids are there. */
  home: Place;
  /** The places whose API keys were read (home first). */
  places: PlaceId[];
  /** Which credential types were read from AWS (a deployment reads only the ones it issues). */
  checkedTypes: CredentialType[];
}

export interface InventoryProgress {
  step: 'registry' | 'api keys' | 'usage plan links' | 'app clients' | 'app client details';
  done: number;
  /** Known for the steps that work through a list already read. */
  total?: number;
  /** The place whose API keys are being read. */
  place?: PlaceId;
}

export interface InventorySources {
  registry: Registry;
  /** Present when the deployment issues API keys. */
  /**
   * `deploymentId`: the stack whose keys are audited; another stack's keys are foreign. `client` reads the
   * webhook's own place (`home`), `elsewhere` every other place a provisioning target covers.
   * `linkableUsagePlanIds` as grants name them.
   */
  apiKeys?: {
    client: APIGatewayClient;
    deploymentId: string;
    linkableUsagePlanIds?: readonly string[];
    home?: Place;
    elsewhere?: readonly { place: Place; client: APIGatewayClient }[];
  };
  /** Present when the deployment issues client credentials. */
  /** `deploymentId`: whose app clients these are (their names' mark); another deployment's in a shared pool are foreign. */
  appClients?: { client: CognitoIdentityProviderClient; userPoolId: string; deploymentId?: string };
  onProgress?: (progress: InventoryProgress) => void;
  now?: () => number;
}

/** Describes run a few at a time: the rate limiter, not this, sets the pace. */
const describeConcurrency = 4;

/**
 * Reads everything the audit compares, every page of it: the registry first, then AWS,
 * so that a claim seen expired in the registry cannot still be creating what AWS shows.
 */
export const readInventory = async (sources: InventorySources): Promise<Inventory> => {
  const progress = sources.onProgress ?? (() => {});
  const readAt = (sources.now ?? Date.now)();
  const records: CredentialRecord[] = [];
  const acknowledgements: Acknowledgement[] = [];
  for await (const page of sources.registry.scan()) {
    for (const item of page) {
      if (!isReservedItem(item)) records.push(item);
      else {
        const acknowledgement = acknowledgementOf(item as unknown as Record<string, unknown>);
        if (acknowledgement) acknowledgements.push(acknowledgement);
      }
    }
    progress({ step: 'registry', done: records.length });
  }
  const home = sources.apiKeys?.home ?? { account: functionDefaults.accountId, region: functionDefaults.region };
  const inventory: Inventory = {
    readAt,
    records,
    acknowledgements,
    credentials: [],
    foreign: [],
    usagePlanIds: [],
    home,
    places: [],
    checkedTypes: [],
  };
  if (sources.apiKeys) {
    // A key any record names, in the place it names it: the registry's, whatever its tags.
    const referencedKeys = new Set(
      records.flatMap((record) =>
        record.credentialType === 'API_KEY' ? Object.entries(placedKeysOf(record, home)).map(([place, id]) => `${place}|${id}`) : [],
      ),
    );
    const { client, elsewhere = [], ...source } = sources.apiKeys;
    for (const { place, client: placeClient } of [{ place: home, client }, ...elsewhere]) {
      await readApiKeys({ ...source, client: placeClient, place, home }, referencedKeys, inventory, progress);
    }
    inventory.checkedTypes.push('API_KEY');
  }
  if (sources.appClients) {
    const referenced = new Set(records.flatMap((record) => (record.credentialId ? [record.credentialId] : [])));
    await readAppClients(sources.appClients, referenced, inventory, progress);
  }
  return inventory;
};

/** One place's keys and their links; `referenced` holds `place|keyId` of every key a record names. */
const readApiKeys = async (
  source: { client: APIGatewayClient; deploymentId: string; linkableUsagePlanIds?: readonly string[]; place: Place; home: Place },
  referenced: Set<string>,
  inventory: Inventory,
  progress: (progress: InventoryProgress) => void,
) => {
  const { client, deploymentId, place, home } = source;
  const here = placeId(place);
  const keys: InventoryApiKey[] = [];
  let seen = 0;
  // includeValues stays false: the audit never reads a key's value.
  for await (const page of paginateGetApiKeys({ client, pageSize: 500 }, {})) {
    for (const key of page.items ?? []) {
      if (!key.id) continue;
      const name = key.name ?? '';
      // Another stack of the webhook beside this one (staging by production) tags its keys with its own id: foreign.
      // A key this registry holds stays this deployment's whatever its tags, so a wrong id cannot make live keys look GONE.
      if (isOwnKey(key.tags, deploymentId) || referenced.has(`${here}|${key.id}`)) {
        keys.push({ credentialType: 'API_KEY', credentialId: key.id, place: here, name, enabled: key.enabled !== false, usagePlanIds: [] });
      } else inventory.foreign.push({ credentialType: 'API_KEY', credentialId: key.id, name, place: here });
    }
    seen += page.items?.length ?? 0;
    progress({ step: 'api keys', done: seen, place: here });
  }

  // One listing per plan rather than one per key: plans are few (300 per Region at most).
  const planIds: string[] = [];
  if (source.linkableUsagePlanIds)
    planIds.push(
      ...source.linkableUsagePlanIds.flatMap((id) => {
        const plan = planPlace(id, home);
        return placeId(plan.place) === here ? [plan.planId] : [];
      }),
    );
  else
    for await (const page of paginateGetUsagePlans({ client, pageSize: 500 }, {}))
      planIds.push(...(page.items ?? []).flatMap((plan) => (plan.id ? [plan.id] : [])));
  const byId = new Map(keys.map((key) => [key.credentialId, key]));
  const named = (planId: string) => placedPlanId(planId, place, home);
  for (const [index, usagePlanId] of planIds.entries()) {
    try {
      for await (const page of paginateGetUsagePlanKeys({ client, pageSize: 500 }, { usagePlanId })) {
        for (const link of page.items ?? []) if (link.id) byId.get(link.id)?.usagePlanIds.push(named(usagePlanId));
      }
    } catch (error) {
      // A plan deleted by hand links nothing; keys recorded with it show up as drift.
      if (!isNotFound(error)) throw error;
    }
    progress({ step: 'usage plan links', done: index + 1, total: planIds.length, place: here });
  }
  inventory.usagePlanIds.push(...planIds.map(named));
  inventory.places.push(here);
  inventory.credentials.push(...keys);
};

const readAppClients = async (
  source: NonNullable<InventorySources['appClients']>,
  referenced: Set<string>,
  inventory: Inventory,
  progress: (progress: InventoryProgress) => void,
) => {
  const { client, userPoolId, deploymentId = functionDefaults.deploymentId } = source;
  const candidates: { id: string; name: string }[] = [];
  let seen = 0;
  for await (const page of paginateListUserPoolClients({ client, pageSize: 60 }, { UserPoolId: userPoolId })) {
    for (const listed of page.UserPoolClients ?? []) {
      if (!listed.ClientId) continue;
      const name = listed.ClientName ?? '';
      if (isOwnAppClientName(name, deploymentId) || referenced.has(listed.ClientId)) candidates.push({ id: listed.ClientId, name });
      else inventory.foreign.push({ credentialType: 'CLIENT_CREDENTIALS', credentialId: listed.ClientId, name });
    }
    seen += page.UserPoolClients?.length ?? 0;
    progress({ step: 'app clients', done: seen });
  }

  // Cognito lists names only: scopes and flows need one describe per client.
  let described = 0;
  const clients = await mapWithConcurrency(candidates, describeConcurrency, async ({ id, name }) => {
    const details = await describe(client, userPoolId, id);
    progress({ step: 'app client details', done: ++described, total: candidates.length });
    if (!details) return undefined; // deleted since it was listed
    // The answer carries the client's secret: only these fields are kept.
    const appClient: InventoryAppClient = {
      credentialType: 'CLIENT_CREDENTIALS',
      credentialId: id,
      name,
      scopes: [...(details.AllowedOAuthScopes ?? [])],
      clientCredentialsFlow: details.AllowedOAuthFlows?.includes('client_credentials') ?? false,
    };
    return appClient;
  });
  for (const appClient of clients) {
    if (!appClient) continue;
    // Named like ours but not made for client credentials: someone else's client.
    if (appClient.clientCredentialsFlow || referenced.has(appClient.credentialId)) inventory.credentials.push(appClient);
    else inventory.foreign.push({ credentialType: 'CLIENT_CREDENTIALS', credentialId: appClient.credentialId, name: appClient.name });
  }
  inventory.checkedTypes.push('CLIENT_CREDENTIALS');
};

const describe = async (client: CognitoIdentityProviderClient, userPoolId: string, clientId: string) => {
  try {
    const { UserPoolClient } = await client.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }));
    return UserPoolClient;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
};

const mapWithConcurrency = async <T, R>(items: readonly T[], concurrency: number, run: (item: T) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
};
