/**
 * API Gateway's resources per account and Region: a key, its value and its usage plans belong to
 * one place, so each place has a state of its own. A place nobody seeded exists all the same, empty
 * (AWS has every Region; in it, this account has made nothing yet): a request there finds no APIs
 * and no plans, and may create keys.
 */
import { accountIdPattern, type PlaceId, parsePlaceId, regionPattern } from '#commons/places';
import { type ApiGatewaySeed, ApiGatewayState } from './api-gateway.ts';

const EMPTY_SEED: ApiGatewaySeed = { restApis: [], usagePlans: [] };

export class ApiGatewayPlaces {
  private readonly states = new Map<PlaceId, ApiGatewayState>();

  constructor(seeds: Readonly<Record<PlaceId, ApiGatewaySeed>>) {
    for (const [id, seed] of Object.entries(seeds)) {
      checkPlaceId(id);
      this.states.set(id, new ApiGatewayState(seed));
    }
  }

  /** The state of one place, made empty on first use when nobody seeded it. */
  at(place: PlaceId): ApiGatewayState {
    let state = this.states.get(place);
    if (!state) {
      state = new ApiGatewayState(EMPTY_SEED);
      this.states.set(place, state);
    }
    return state;
  }
}

/** `account/region`, as lambda/commons/places.ts writes it: a typo in a test's place would otherwise be a silent empty place. */
export function checkPlaceId(id: PlaceId): void {
  const { account, region } = parsePlaceId(id);
  if (!accountIdPattern.test(account) || !regionPattern.test(region) || id.split('/').length !== 2) {
    throw new Error(`Place ${id} is not "account/region" (a 12-digit account id and a Region name, e.g. 222222222222/eu-west-1)`);
  }
}
