import { randomBytes } from 'node:crypto';
import type { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { functionDefaults } from '#commons/defaults';
import { type Place, type PlaceId, parsePlaceId, placeId, planPlace } from '#commons/places';
import { conflict, quotaExceeded } from '#contract/errors';
import { isResourceQuotaRefusal } from '#clients/retry-settings';
import { ApiKeysInPlace } from './api-keys-in-place.ts';
import { placedKeysOf, placeOrder, primaryPlaceOf } from './key-places.ts';
import {
  type AppIdentity,
  type CredentialRef,
  type Grant,
  type IssuedCredential,
  LeftoversError,
  type Placement,
  type Provisioner,
  type QuotaTaken,
  undoThenRethrow,
} from './provisioner.ts';
import { maxUsagePlansPerKey, type UsagePlanCatalog } from './usage-plan-catalog.ts';

export { appKeyTag, deploymentTag, isOwnKey, managedByTag, managedByValue } from './api-keys-in-place.ts';

/** The API Gateway of one place beyond the webhook's own, and the usage plans there. */
export interface ApiGatewayPlace {
  place: Place;
  apiGateway: APIGatewayClient;
  usagePlans: UsagePlanCatalog;
}

export interface ApiKeyPlaces {
  /** The webhook's own place: bare plan ids and records without `placedIds` are there. */
  home: Place;
  /** Every other place a provisioning target covers. */
  elsewhere: readonly ApiGatewayPlace[];
}

/**
 * A value for keys made in several places at once: AWS documents a caller's value as an alphanumeric
 * string of 20 to 128 characters. 32 random bytes in hex: 64 characters, 256 bits.
 */
const newKeyValue = () => randomBytes(32).toString('hex');

/**
 * API Gateway API keys, reaching APIs through usage plans. A key and its plans belong to one account
 * and Region, so a developer whose APIs live in several places holds one key in each, all with one
 * value: the portal is answered one id (the first place's key) and that value. The registry records
 * each place's key id (`placedIds`); a record without them holds one key, in the webhook's own place.
 */
export class ApiKeyProvisioner implements Provisioner {
  readonly credentialType = 'API_KEY' as const;
  private readonly home: Place;
  private readonly places = new Map<PlaceId, ApiKeysInPlace>();

  /**
   * @param apiGateway the webhook's own place's API Gateway.
   * @param linkableUsagePlanIds the plans this deployment links keys to (its roles may touch no
   *   other), as grants name them; a key's links to any other plan were made by hand and are left alone. Absent: any.
   * @param deploymentId the stack's name, tagged on every key it makes: keys of another stack are never its own.
   * @param places the other places the deployment reaches; none: only its own.
   */
  constructor(
    apiGateway: APIGatewayClient,
    usagePlans: UsagePlanCatalog,
    linkableUsagePlanIds?: readonly string[],
    deploymentId: string = functionDefaults.deploymentId,
    places: ApiKeyPlaces = { home: { account: functionDefaults.accountId, region: functionDefaults.region }, elsewhere: [] },
  ) {
    this.home = places.home;
    const linkableIn = (place: Place) =>
      linkableUsagePlanIds
        ?.map((id) => planPlace(id, this.home))
        .filter((plan) => placeId(plan.place) === placeId(place))
        .map((plan) => plan.planId);
    for (const { place, apiGateway: client, usagePlans: catalog } of [{ place: this.home, apiGateway, usagePlans }, ...places.elsewhere]) {
      this.places.set(placeId(place), new ApiKeysInPlace(client, catalog, linkableIn(place), deploymentId));
    }
  }

  async create(app: AppIdentity, grant: Grant): Promise<IssuedCredential> {
    const plans = this.plansByPlace(grant);
    const [only, ...more] = plans.keys();
    if (only === undefined || more.length === 0) {
      const first = only ?? placeId(this.home);
      const issued = await this.createIn(first, app, plans.get(first) ?? []);
      return first === placeId(this.home) ? issued : { ...issued, placedIds: { [first]: issued.credentialId } };
    }
    // All places at once, all or nothing: what the others made is deleted when one fails.
    const value = newKeyValue();
    const places = [...plans.keys()];
    const results = await Promise.allSettled(places.map((place) => this.createIn(place, app, plans.get(place) ?? [], value)));
    const made = places.flatMap((place, index) => {
      const result = results[index];
      return result?.status === 'fulfilled' ? [[place, result.value.credentialId] as const] : [];
    });
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    if (failures.length > 0) {
      // A place whose create may have happened keeps the claim: the next call deletes what carries the app's name everywhere.
      const reported = failures.find((failure) => failure instanceof LeftoversError) ?? failures[0];
      return undoThenRethrow(reported, () => Promise.all(made.map(([place, keyId]) => this.keysIn(place).revoke(keyId))));
    }
    const placedIds = Object.fromEntries(made);
    return { credentialId: made[0]?.[1] as string, secret: value, placedIds };
  }

  async reveal(credential: CredentialRef): Promise<IssuedCredential | undefined> {
    const issued = await this.keysIn(primaryPlaceOf(credential, this.home)).reveal(credential.credentialId);
    return issued && credential.placedIds ? { ...issued, placedIds: { ...credential.placedIds } } : issued;
  }

  async regrant(credential: CredentialRef, desired: Grant): Promise<Placement> {
    const primary = primaryPlaceOf(credential, this.home);
    const recorded = placedKeysOf(credential, this.home);
    const plans = this.plansByPlace(desired);
    // The developer's value, read from the key the portal knows only when a place needs a key made.
    let value: Promise<string> | undefined;
    const developerValue = () => {
      value ??= this.keysIn(primary)
        .reveal(credential.credentialId)
        .then((issued) => {
          if (!issued) throw conflict('CREDENTIAL_GONE', 'The API key was deleted outside the webhook; revoke it and create new credentials.');
          return issued.secret;
        });
      return value;
    };
    const placed: Record<PlaceId, string> = { [primary]: credential.credentialId };
    // One place after another: a failure after an earlier place changed leaves the app held, for the next holder to finish from AWS.
    let changed = false;
    const step = async <T>(work: () => Promise<{ result: T; changed: boolean }>): Promise<T> => {
      try {
        const outcome = await work();
        changed ||= outcome.changed;
        return outcome.result;
      } catch (error) {
        throw changed && !(error instanceof LeftoversError) ? new LeftoversError(error) : error;
      }
    };
    for (const place of new Set([primary, ...plans.keys(), ...Object.keys(recorded)])) {
      const wanted = plans.get(place);
      const keyId = recorded[place];
      if (place === primary) {
        await step(async () => ({ result: undefined, changed: await this.keysIn(place).regrant(credential.credentialId, wanted ?? []) }));
      } else if (wanted === undefined) {
        if (keyId !== undefined) await step(async () => ({ result: await this.keysIn(place).revoke(keyId), changed: true }));
      } else {
        placed[place] = await step(() => this.keyIn(place, keyId, developerValue, credential, wanted));
      }
    }
    return Object.keys(placed).length === 1 && primary === placeId(this.home) ? {} : { placedIds: placed };
  }

  /**
   * The developer's key in a place it should be in, linked as wanted: the recorded one, or, when it is
   * gone or was never recorded, one made now with the developer's value.
   */
  private async keyIn(
    place: PlaceId,
    keyId: string | undefined,
    developerValue: () => Promise<string>,
    credential: CredentialRef,
    usagePlanIds: readonly string[],
  ) {
    const keys = this.keysIn(place);
    if (keyId !== undefined && (await keys.reveal(keyId))) return { result: keyId, changed: await keys.regrant(keyId, usagePlanIds) };
    const app = credential.app;
    if (!app) throw conflict('CREDENTIAL_GONE', `The API key in ${place} was deleted outside the webhook; revoke it and create new credentials.`);
    const value = await developerValue();
    // A crashed change may have made it already: that one is linked as wanted, not made twice.
    const made = await keys.findOwn(app, value);
    if (made) return { result: made.id, changed: await keys.regrant(made.id, usagePlanIds) };
    return { result: (await this.createIn(place, app, usagePlanIds, value)).credentialId, changed: true };
  }

  /**
   * Makes the app's key in one place. AWS's own refusal of a full Region (its quota counts every key
   * there, not only the webhook's) answers as the webhook's gauges do: 503 QUOTA_EXCEEDED, naming the place.
   */
  private async createIn(place: PlaceId, app: AppIdentity, usagePlanIds: readonly string[], value?: string): Promise<IssuedCredential> {
    try {
      return await this.keysIn(place).create(app, usagePlanIds, value);
    } catch (error) {
      if (!isResourceQuotaRefusal(error)) throw error;
      const { account, region } = parsePlaceId(place);
      throw quotaExceeded(
        `API keys in account ${account}, Region ${region}: AWS refused a new key, as its quota of API keys per Region (every key there counts, not only this webhook's) is reached; revoke unused keys there, or serve further APIs from another Region or account.`,
      );
    }
  }

  /** Whether the keys named (one per place) hold one value; the values are compared here and never returned. */
  async shareOneValue(placedIds: Readonly<Record<PlaceId, string>>): Promise<boolean> {
    const values = await Promise.all(Object.entries(placedIds).map(async ([place, keyId]) => (await this.keysIn(place).reveal(keyId))?.secret));
    return values.every((value) => value !== undefined && value === values[0]);
  }

  async revoke(credential: CredentialRef): Promise<void> {
    await Promise.all(Object.entries(placedKeysOf(credential, this.home)).map(([place, keyId]) => this.keysIn(place).revoke(keyId)));
  }

  async removeLeftovers(app: AppIdentity, keep: readonly string[] = []): Promise<number> {
    const removed = await Promise.all([...this.places.values()].map((keys) => keys.removeLeftovers(app, keep)));
    return removed.reduce((sum, count) => sum + count, 0);
  }

  async whereabouts(credentialId: string): Promise<{ ours: boolean; appKey?: string } | undefined> {
    // Key ids are AWS's, unique where they were made: the answered id is the first place's key, wherever that is.
    for (const keys of this.places.values()) {
      const found = await keys.whereabouts(credentialId);
      if (found) return found;
    }
    return undefined;
  }

  quotasTaken(grant: Grant): QuotaTaken[] {
    return [...this.plansByPlace(grant)].map(([place, plans]) => ({
      quota: 'usagePlansPerKey',
      place,
      used: plans.length,
      limit: maxUsagePlansPerKey,
    }));
  }

  placesOf(grant: Grant, credential?: CredentialRef): string[] {
    const places = new Set([...this.plansByPlace(grant).keys(), ...(credential ? Object.keys(placedKeysOf(credential, this.home)) : [])]);
    return places.size > 0 ? [...places] : [placeId(this.home)];
  }

  /** The places a grant's plans are in, each with its plans' own (bare) ids; the webhook's own place first. */
  private plansByPlace(grant: Grant): Map<PlaceId, string[]> {
    const plans = new Map<PlaceId, string[]>();
    for (const id of grant.usagePlanIds) {
      const { place, planId } = planPlace(id, this.home);
      const key = placeId(place);
      plans.set(key, [...(plans.get(key) ?? []), planId]);
    }
    const order = placeOrder(this.home);
    return new Map([...plans].sort(([a], [b]) => order(a, b)));
  }

  /** The keys of one place the deployment reaches (the audit reads and repairs them place by place). */
  keysIn(place: PlaceId): ApiKeysInPlace {
    const keys = this.places.get(place);
    if (!keys) {
      const { account, region } = parsePlaceId(place);
      throw new Error(`No provisioning target covers account ${account}, Region ${region}`);
    }
    return keys;
  }
}
