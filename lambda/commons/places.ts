/**
 * Where an API, and so the API key that reaches it, lives: an AWS account and Region. A key and
 * its usage plans belong to one account and Region (API Gateway quotas: 10,000 keys per Region),
 * so a developer whose APIs live in several places holds one key in each, all with one value.
 */
export interface Place {
  account: string;
  region: string;
}

/** How the webhook reaches the places beyond its own: a role of the other account, or its own role in another Region. */
export interface ProvisioningTarget {
  /** Absent: the webhook's own account, whose other Regions its own role reaches. */
  account?: string;
  regions: readonly string[];
  /** The role the other account provides for the webhook (`sts:AssumeRole`); none in the webhook's own account. */
  roleArn?: string;
  /** What the role's trust policy requires in `sts:ExternalId`. */
  externalId?: string;
}

/** `account/region`: a place as the registry, the policy and the history write it. */
export type PlaceId = string;

export const accountIdPattern = /^\d{12}$/;
/** AWS Region names: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-5`. */
export const regionPattern = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

export const placeId = (place: Place): PlaceId => `${place.account}/${place.region}`;

export const parsePlaceId = (id: PlaceId): Place => {
  const [account = '', region = ''] = id.split('/');
  return { account, region };
};

export const samePlace = (a: Place, b: Place) => a.account === b.account && a.region === b.region;

/**
 * A usage plan as a grant names it. Plan ids are unique only within their place: one in the
 * webhook's own place is its bare id (as every record before places had it), one elsewhere
 * `account/region/id`. AWS's plan ids hold no `/`.
 */
export const placedPlanId = (planId: string, place: Place, home: Place): string => (samePlace(place, home) ? planId : `${placeId(place)}/${planId}`);

/** The place and bare id of a plan as a grant names it. */
export const planPlace = (placedId: string, home: Place): { place: Place; planId: string } => {
  const parts = placedId.split('/');
  if (parts.length !== 3) return { place: home, planId: placedId };
  const [account = '', region = '', planId = ''] = parts;
  return { place: { account, region }, planId };
};

/** Why an API's place or a target cannot be served, one sentence each; none when all can. */
export const placementProblems = (
  apis: Readonly<Record<string, { account?: string; region?: string }>>,
  targets: readonly ProvisioningTarget[],
  /** The webhook's own place; its account is undefined when synth cannot know it (an environment-agnostic stack). */
  home: { account?: string; region?: string },
): string[] => {
  const problems: string[] = [];
  const own = (account: string | undefined) => account === undefined || (home.account !== undefined && account === home.account);
  const named = (account: string | undefined) => (own(account) ? "the stack's own account" : `account ${account}`);
  const seen = new Set<string>();
  for (const target of targets) {
    const key = own(target.account) ? '' : (target.account as string);
    if (seen.has(key)) problems.push(`${named(target.account)} has more than one provisioning target; list its Regions in one`);
    seen.add(key);
    if (!own(target.account) && target.roleArn === undefined) {
      problems.push(
        `the provisioning target of ${named(target.account)} names no roleArn: another account is reached only through a role it provides`,
      );
    }
    if (own(target.account) && target.roleArn !== undefined) {
      problems.push(`the provisioning target of the stack's own account names a roleArn: its own Regions are reached with the functions' own role`);
    }
    if (target.roleArn !== undefined && target.externalId === undefined) {
      problems.push(`the provisioning target of ${named(target.account)} names a roleArn but no externalId`);
    }
    if (target.roleArn !== undefined && target.account !== undefined && !target.roleArn.includes(`:iam::${target.account}:role/`)) {
      problems.push(`the roleArn of the provisioning target of account ${target.account} is not a role of that account`);
    }
  }
  for (const [apiId, api] of Object.entries(apis)) {
    const region = api.region ?? home.region;
    if (own(api.account) && (api.region === undefined || api.region === home.region)) continue;
    const covered = targets.some(
      (target) =>
        (own(api.account) ? own(target.account) : target.account === api.account) && region !== undefined && target.regions.includes(region),
    );
    if (!covered)
      problems.push(`API ${apiId} lives in ${named(api.account)}, Region ${region ?? "(the stack's)"}, which no provisioning target covers`);
  }
  return problems;
};
