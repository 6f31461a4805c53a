import { unprocessable } from '#contract/errors';
import type { ApiRef, CredentialType } from '#contract/schemas';
import type { CredentialPolicySettings } from '#commons/config';
import type { Grant } from './provisioner.ts';

/** API Gateway lets one API key join at most 10 usage plans. */
const maxUsagePlansPerKey = 10;

/**
 * Decides, from the deployment's settings, which credential type a request gets
 * and what it grants; refuses requests that no single credential could serve.
 */
export class CredentialPolicy {
  constructor(private readonly settings: CredentialPolicySettings) {}

  typeOf(apiId: string): CredentialType {
    return this.settings.apis[apiId]?.type ?? this.settings.defaultType;
  }

  resolve(apis: readonly ApiRef[]): { credentialType: CredentialType; grant: Grant } {
    const types = new Map(apis.map((api) => [api.id, this.typeOf(api.id)]));
    const distinct = new Set(types.values());
    if (distinct.size > 1) {
      const wants = [...types].map(([id, type]) => `${id} needs ${type}`).join(', ');
      throw unprocessable('MIXED_CREDENTIAL_TYPES', `The requested APIs need different credential types (${wants}); request them in separate apps.`);
    }
    const credentialType = [...distinct][0] as CredentialType;
    const apiIds = apis.map((api) => api.id);
    return credentialType === 'API_KEY'
      ? { credentialType, grant: { apiIds, usagePlanIds: this.usagePlansOf(apis), scopes: [] } }
      : { credentialType, grant: { apiIds, usagePlanIds: [], scopes: this.scopesOf(apis) } };
  }

  private usagePlansOf(apis: readonly ApiRef[]): string[] {
    const withoutPlan = apis.filter((api) => api.usagePlans.length === 0).map((api) => api.id);
    if (withoutPlan.length > 0) {
      throw unprocessable('USAGE_PLAN_REQUIRED', `An API key reaches an API only through a usage plan; name one for API ${withoutPlan.join(', ')}.`);
    }
    const plans = [...new Set(apis.flatMap((api) => api.usagePlans.map((plan) => plan.id)))].sort();
    const allowed = this.settings.usagePlanIds;
    const notAllowed = allowed ? plans.filter((plan) => !allowed.includes(plan)) : [];
    if (notAllowed.length > 0) {
      throw unprocessable('UNKNOWN_USAGE_PLAN', `Usage plan ${notAllowed.join(', ')} is not one this deployment links API keys to.`);
    }
    if (plans.length > maxUsagePlansPerKey) {
      throw unprocessable('TOO_MANY_USAGE_PLANS', `An API key can join at most ${maxUsagePlansPerKey} usage plans; this request names ${plans.length}.`);
    }
    return plans;
  }

  private scopesOf(apis: readonly ApiRef[]): string[] {
    const unconfigured = apis.filter((api) => !this.settings.apis[api.id]?.scopes?.length).map((api) => api.id);
    if (unconfigured.length > 0) {
      throw unprocessable('API_NOT_CONFIGURED', `No OAuth scopes are configured for API ${unconfigured.join(', ')}, so no client could call it.`);
    }
    return [...new Set(apis.flatMap((api) => this.settings.apis[api.id]?.scopes ?? []))].sort();
  }
}
