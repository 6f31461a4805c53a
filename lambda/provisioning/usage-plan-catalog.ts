import { type APIGatewayClient, GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { type Place, type PlaceId, placeId, planPlace } from '#commons/places';
import { isNotFound } from './aws-failures.ts';

/** A deployed stage of a REST API; a usage plan serves one or more. */
export interface ApiStage {
  apiId: string;
  stage: string;
}

/** Plans change rarely, but an operator's change should show within a minute. */
const defaultTtlMs = 60_000;

/** API Gateway lets one API key join at most 10 usage plans (its quota "usage plans per API key"). */
export const maxUsagePlansPerKey = 10;

export const sameStage = (a: ApiStage, b: ApiStage) => a.apiId === b.apiId && a.stage === b.stage;

/**
 * The API stages each usage plan serves, read with GetUsagePlan and kept per container
 * for a short time. Only plans that exist are kept: a plan not found is asked for again.
 */
export class UsagePlanCatalog {
  private readonly known = new Map<string, { stages: readonly ApiStage[]; readAt: number }>();
  private readonly reading = new Map<string, Promise<readonly ApiStage[] | undefined>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly apiGateway: APIGatewayClient,
    options: { ttlMs?: number; now?: () => number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? defaultTtlMs;
    this.now = options.now ?? Date.now;
  }

  /**
   * The stages `usagePlanId` serves, undefined when no such plan exists. `fresh` skips the
   * cache: a request about to be refused on what the cache says is checked against AWS first.
   */
  stagesOf(usagePlanId: string, { fresh = false } = {}): Promise<readonly ApiStage[] | undefined> {
    const cached = this.known.get(usagePlanId);
    if (!fresh && cached && this.now() - cached.readAt < this.ttlMs) return Promise.resolve(cached.stages);
    // Concurrent requests for one plan share one read.
    let read = this.reading.get(usagePlanId);
    if (!read) {
      read = this.read(usagePlanId).finally(() => this.reading.delete(usagePlanId));
      this.reading.set(usagePlanId, read);
    }
    return read;
  }

  private async read(usagePlanId: string): Promise<readonly ApiStage[] | undefined> {
    const readAt = this.now();
    try {
      const plan = await this.apiGateway.send(new GetUsagePlanCommand({ usagePlanId }));
      const stages = (plan.apiStages ?? []).flatMap(({ apiId, stage }) => (apiId && stage ? [{ apiId, stage }] : []));
      this.known.set(usagePlanId, { stages, readAt });
      return stages;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      this.known.delete(usagePlanId);
      return undefined;
    }
  }
}

/** The stages of usage plans as grants name them (`#commons/places`: bare in the webhook's own place, `account/region/id` elsewhere). */
export interface UsagePlanStages {
  stagesOf(usagePlanId: string, options?: { fresh?: boolean }): Promise<readonly ApiStage[] | undefined>;
}

/** The usage plans of every place the deployment reaches, each read in its own place; a plan of a place it does not reach does not exist. */
export class PlacedUsagePlans implements UsagePlanStages {
  constructor(
    private readonly home: Place,
    private readonly catalogs: ReadonlyMap<PlaceId, UsagePlanCatalog>,
  ) {}

  stagesOf(usagePlanId: string, options: { fresh?: boolean } = {}): Promise<readonly ApiStage[] | undefined> {
    const { place, planId } = planPlace(usagePlanId, this.home);
    const catalog = this.catalogs.get(placeId(place));
    return catalog ? catalog.stagesOf(planId, options) : Promise.resolve(undefined);
  }
}
