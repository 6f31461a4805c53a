import { unprocessable, type WebhookError } from '#contract/errors';
import type { ApiRef, CredentialType } from '#contract/schemas';
import type { CredentialPolicySettings } from '#commons/config';
import { functionDefaults } from '#commons/defaults';
import { type Place, placeId, placedPlanId, planPlace } from '#commons/places';
import type { Grant } from './provisioner.ts';
import { type ApiStage, maxUsagePlansPerKey, sameStage, type UsagePlanStages } from './usage-plan-catalog.ts';

type StagesByPlan = ReadonlyMap<string, readonly ApiStage[] | undefined>;

/**
 * Decides, from the deployment's settings and the usage plans' API stages, which
 * credential type a request gets and what it grants; refuses requests that no
 * single credential could serve, before anything is made.
 */
export class CredentialPolicy {
  /** @param home the webhook's own account and Region, where the APIs the settings place nowhere else live. */
  constructor(
    private readonly settings: CredentialPolicySettings,
    private readonly usagePlans: UsagePlanStages,
    private readonly home: Place = { account: functionDefaults.accountId, region: functionDefaults.region },
  ) {}

  /** Where an API lives, as the settings place it. */
  placeOf(apiId: string): Place {
    const api = this.settingsOf(apiId);
    return { account: api?.account ?? this.home.account, region: api?.region ?? this.home.region };
  }

  /** A usage plan named under an API, as grants name it: in that API's place. */
  private planOf(api: ApiRef, planId: string) {
    return placedPlanId(planId, this.placeOf(api.id), this.home);
  }

  typeOf(apiId: string): CredentialType {
    return this.settingsOf(apiId)?.type ?? this.settings.defaultType;
  }

  async resolve(apis: readonly ApiRef[]): Promise<{ credentialType: CredentialType; grant: Grant }> {
    const types = new Map(apis.map((api) => [api.id, this.typeOf(api.id)]));
    const distinct = new Set(types.values());
    if (distinct.size > 1) {
      const wants = [...types].map(([id, type]) => `${id} needs ${type}`).join(', ');
      throw unprocessable('MIXED_CREDENTIAL_TYPES', `The requested APIs need different credential types (${wants}); request them in separate apps.`);
    }
    const credentialType = [...distinct][0] as CredentialType;
    const apiIds = apis.map((api) => api.id);
    return credentialType === 'API_KEY'
      ? { credentialType, grant: { apiIds, usagePlanIds: await this.usagePlansOf(apis), scopes: [] } }
      : { credentialType, grant: { apiIds, usagePlanIds: [], scopes: this.scopesOf(apis) } };
  }

  /** Own entries only: an API id such as `constructor` must not find Object.prototype's. */
  private settingsOf(apiId: string) {
    return Object.hasOwn(this.settings.apis, apiId) ? this.settings.apis[apiId] : undefined;
  }

  private async usagePlansOf(apis: readonly ApiRef[]): Promise<string[]> {
    const withoutPlan = apis.filter((api) => api.usagePlans.length === 0).map((api) => api.id);
    if (withoutPlan.length > 0) {
      throw unprocessable('USAGE_PLAN_REQUIRED', `An API key reaches an API only through a usage plan; name one for API ${withoutPlan.join(', ')}.`);
    }
    const plans = [...new Set(apis.flatMap((api) => api.usagePlans.map((plan) => this.planOf(api, plan.id))))].sort();
    const allowed = this.settings.usagePlanIds;
    const notAllowed = allowed ? plans.filter((plan) => !allowed.includes(plan)) : [];
    if (notAllowed.length > 0) {
      throw unprocessable('UNKNOWN_USAGE_PLAN', `Usage plan ${notAllowed.join(', ')} is not one this deployment links API keys to.`);
    }
    // The developer holds one key per place, and each key may join 10 plans of its place.
    const perPlace = new Map<string, string[]>();
    for (const plan of plans) {
      const place = placeId(planPlace(plan, this.home).place);
      perPlace.set(place, [...(perPlace.get(place) ?? []), plan]);
    }
    const crowded = [...perPlace.values()].find((placePlans) => placePlans.length > maxUsagePlansPerKey);
    if (crowded) {
      throw unprocessable(
        'TOO_MANY_USAGE_PLANS',
        `An API key can join at most ${maxUsagePlansPerKey} usage plans; this request names ${crowded.length}${perPlace.size > 1 ? ' in one account and Region' : ''}.`,
      );
    }
    const stagesOf = async (fresh: boolean): Promise<StagesByPlan> =>
      new Map(await Promise.all(plans.map(async (plan) => [plan, await this.usagePlans.stagesOf(plan, { fresh })] as const)));
    // A refusal is confirmed against AWS first: the cached stages may predate an operator's change.
    const misfit = this.misfitOf(apis, plans, await stagesOf(false)) && this.misfitOf(apis, plans, await stagesOf(true));
    if (misfit) throw misfit;
    return plans;
  }

  /**
   * Why these plans cannot serve these APIs, if they cannot: a plan that does not exist, that
   * does not serve the API it is listed under, or that also opens an API reserved for client
   * credentials; or two plans of one API stage (AWS keeps a key in one plan per stage).
   */
  private misfitOf(apis: readonly ApiRef[], plans: readonly string[], stagesByPlan: StagesByPlan): WebhookError | undefined {
    const missing = plans.filter((plan) => !stagesByPlan.get(plan));
    if (missing.length > 0) return unprocessable('UNKNOWN_USAGE_PLAN', `Usage plan ${missing.join(', ')} does not exist in this deployment.`);
    const stagesOf = (plan: string) => stagesByPlan.get(plan) ?? [];
    for (const api of apis) {
      const foreign = api.usagePlans.find((plan) => !stagesOf(this.planOf(api, plan.id)).some((stage) => stage.apiId === api.id));
      if (foreign)
        return unprocessable('USAGE_PLAN_NOT_FOR_API', `Usage plan ${foreign.id} does not serve API ${api.id}; name a usage plan of that API.`);
    }
    for (const plan of plans) {
      const reserved = stagesOf(plan).find((stage) => this.typeOf(stage.apiId) !== 'API_KEY');
      if (reserved) {
        return unprocessable(
          'USAGE_PLAN_NOT_FOR_API',
          `Usage plan ${plan} also serves API ${reserved.apiId}, which this deployment serves with client credentials only.`,
        );
      }
    }
    for (const [index, plan] of plans.entries()) {
      for (const other of plans.slice(index + 1)) {
        // Stages of different places are different stages, whatever their ids.
        if (placeId(planPlace(plan, this.home).place) !== placeId(planPlace(other, this.home).place)) continue;
        const shared = stagesOf(plan).find((stage) => stagesOf(other).some((otherStage) => sameStage(stage, otherStage)));
        if (shared) {
          return unprocessable(
            'USAGE_PLANS_SHARE_STAGE',
            `Usage plans ${plan} and ${other} both serve API stage ${shared.apiId}/${shared.stage}, and an API key can be in only one usage plan per API stage; name one of them.`,
          );
        }
      }
    }
    return undefined;
  }

  private scopesOf(apis: readonly ApiRef[]): string[] {
    const unconfigured = apis.filter((api) => !this.settingsOf(api.id)?.scopes?.length).map((api) => api.id);
    if (unconfigured.length > 0) {
      throw unprocessable('API_NOT_CONFIGURED', `No OAuth scopes are configured for API ${unconfigured.join(', ')}, so no client could call it.`);
    }
    return [...new Set(apis.flatMap((api) => this.settingsOf(api.id)?.scopes ?? []))].sort();
  }
}
