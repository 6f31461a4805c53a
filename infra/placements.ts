import { type Stack, Token } from 'aws-cdk-lib';
import type { CredentialPolicySettings } from '#commons/config';
import { accountIdPattern, planPlace, placementProblems, type ProvisioningTarget, regionPattern } from '#commons/places';

/**
 * Where the webhook's API keys live, as its functions' IAM needs it: the places the credential
 * policy names, checked at synth by the same rules (`placementProblems`) the functions apply at
 * cold start, and split into what the functions' own role reaches and what other accounts' roles do.
 */
export interface WebhookPlaces {
  /** The stack's account and Region, each undefined when the stack is environment-agnostic (a token). */
  readonly home: { readonly account?: string; readonly region?: string };
  /** The usage plans of the webhook's own Region, by bare id. */
  readonly homePlanIds: readonly string[];
  /** The webhook's own account's other Regions a target lists, with the usage plans named there. */
  readonly ownRegions: readonly { readonly region: string; readonly usagePlanIds: readonly string[] }[];
  /** The roles other accounts provide for the webhook: exactly the targets' roleArns. */
  readonly roleArns: readonly string[];
  /** The credential policy's provisioning targets, as the functions read them. */
  readonly targets: readonly ProvisioningTarget[];
}

/** A pattern's source without its anchors. */
const inner = (pattern: RegExp) => pattern.source.replace(/^\^|\$$/g, '');

/** A usage plan id as `usagePlanIds` may name it: bare (the stack's own place) or `account/region/planId`. */
export const placedUsagePlanId = new RegExp(`^(?:${inner(accountIdPattern)}/${inner(regionPattern)}/)?[A-Za-z0-9_-]{1,128}$`);

const literal = (value: string) => (Token.isUnresolved(value) ? undefined : value);

/**
 * The webhook's places from its validated policy and usage plans; throws, naming the field, when
 * an API or a usage plan lives where no provisioning target reaches, or a target cannot be used.
 */
export const webhookPlaces = (stack: Stack, policy: CredentialPolicySettings, usagePlanIds: readonly string[]): WebhookPlaces => {
  const home = { account: literal(stack.account), region: literal(stack.region) };
  const targets = policy.targets ?? [];
  const problems = placementProblems(policy.apis, targets, home).map(
    (problem) => `credentialPolicy.${problem.startsWith('API ') ? 'apis' : 'targets'}: ${problem}`,
  );

  // Without a literal stack account, an account no target reaches through a role is taken as the stack's own (the cold start checks it again).
  const reachedByRole = new Set(targets.filter((target) => target.roleArn !== undefined).map((target) => target.account));
  const ownAccount = (account: string | undefined) =>
    account === undefined || (home.account !== undefined ? account === home.account : !reachedByRole.has(account));
  const isHome = (place: { account?: string; region?: string }) =>
    ownAccount(place.account) && (place.region === undefined || place.region === home.region);
  const apiPlaces = Object.values(policy.apis).map((api) => ({ account: api.account, region: api.region }));

  const homePlanIds: string[] = [];
  const elsewhere = new Map<string, string[]>();
  usagePlanIds.forEach((id, index) => {
    if (Token.isUnresolved(id) || !id.includes('/')) {
      homePlanIds.push(id);
      return;
    }
    const { place, planId } = planPlace(id, { account: '', region: '' });
    if (!placedUsagePlanId.test(id) || !accountIdPattern.test(place.account) || !regionPattern.test(place.region)) {
      problems.push(`usagePlanIds.${index}: "${id}" must be a usage plan id, or "account/region/planId" for a plan of another place`);
      return;
    }
    // A plan serves an API listed under it, in that API's place: a plan where no API lives could never be linked.
    const servesAnApi = apiPlaces.some((api) =>
      isHome(api)
        ? isHome(place)
        : (api.account === undefined ? ownAccount(place.account) : api.account === place.account) && (api.region ?? home.region) === place.region,
    );
    if (!servesAnApi) {
      problems.push(
        `usagePlanIds.${index}: "${id}" lives in account ${place.account}, Region ${place.region}, where no API of credentialPolicy.apis lives`,
      );
      return;
    }
    if (isHome(place)) homePlanIds.push(planId);
    else if (ownAccount(place.account)) elsewhere.set(place.region, [...(elsewhere.get(place.region) ?? []), planId]);
    // A plan of another account is reached through that account's role, which names its plans itself.
  });
  if (problems.length > 0) throw new Error(`Invalid placement of the webhook's APIs:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);

  const ownRegions = [
    ...new Set(targets.filter((target) => ownAccount(target.account)).flatMap((target) => target.regions.filter((region) => region !== home.region))),
  ];
  return {
    home,
    homePlanIds,
    ownRegions: ownRegions.map((region) => ({ region, usagePlanIds: elsewhere.get(region) ?? [] })),
    roleArns: [...new Set(targets.flatMap((target) => (target.roleArn !== undefined && !ownAccount(target.account) ? [target.roleArn] : [])))],
    targets,
  };
};
