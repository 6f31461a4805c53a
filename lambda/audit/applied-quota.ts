import {
  paginateListAWSDefaultServiceQuotas,
  paginateListServiceQuotas,
  type ServiceQuota,
  type ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';

/**
 * Cognito user pools in Service Quotas: service code `cognito-idp` ("Amazon Cognito User Pools" in
 * ListServices), and the adjustable quota of app clients per pool (default 1,000; Cognito developer
 * guide, "Quotas in Amazon Cognito", quotas on resource number and size; AWS General Reference,
 * "Amazon Cognito endpoints and quotas"). Its quota code (L-…) is not published in a source we could
 * check, so it is found by name, compared without regard to case.
 */
export const cognitoUserPoolsServiceCode = 'cognito-idp';
export const appClientsQuotaName = 'App clients per user pool';

/** What Service Quotas says of the pool's quota of app clients, or why it said nothing. */
export type AppliedQuota =
  /**
   * `applied`: the account's applied value (ListServiceQuotas); `default`: no applied value is listed
   * (ListServiceQuotas leaves out a quota whose applied value is not available), so AWS's default
   * (ListAWSDefaultServiceQuotas), which is then the value in force.
   */
  | { read: true; value: number; source: 'applied' | 'default'; quotaCode?: string }
  /** Not read: the error's name (AccessDeniedException, NoSuchResourceException, …), or that no quota has the name. */
  | { read: false; reason: string };

const named = (quota: ServiceQuota) =>
  quota.ServiceCode === cognitoUserPoolsServiceCode &&
  quota.QuotaName?.toLowerCase() === appClientsQuotaName.toLowerCase() &&
  typeof quota.Value === 'number';

const find = async (pages: AsyncIterable<{ Quotas?: ServiceQuota[] }>) => {
  for await (const page of pages) {
    const found = page.Quotas?.find(named);
    if (found) return found;
  }
  return undefined;
};

/**
 * Reads the quota in force for app clients per user pool in the client's account and Region: the applied
 * value, else AWS's default. Never throws: a refusal (no `servicequotas:` permission, an account or Region
 * Service Quotas does not serve) is answered as not read, with its reason.
 */
export const readAppClientsQuota = async (client: ServiceQuotasClient): Promise<AppliedQuota> => {
  const input = { ServiceCode: cognitoUserPoolsServiceCode };
  try {
    const applied = await find(paginateListServiceQuotas({ client }, input));
    const found = applied ?? (await find(paginateListAWSDefaultServiceQuotas({ client }, input)));
    if (!found) return { read: false, reason: `Service Quotas lists no ${cognitoUserPoolsServiceCode} quota named "${appClientsQuotaName}"` };
    return {
      read: true,
      value: found.Value as number,
      source: applied ? 'applied' : 'default',
      ...(found.QuotaCode ? { quotaCode: found.QuotaCode } : {}),
    };
  } catch (error) {
    return { read: false, reason: (error as Error)?.name ?? 'Error' };
  }
};

/** The settings a platform team changes to count against another quota of app clients. */
export const appClientsQuotaSetting = "clientCredentials.appClientsQuota (the functions' APP_CLIENTS_QUOTA)";

/** A quota in force that differs from the limit the deployment counts against: not drift, a setting to change. */
export interface QuotaMismatch {
  userPoolId: string;
  /** The limit the deployment's gauge counts against (`clientCredentials.appClientsQuota`). */
  configured: number;
  /** The quota Service Quotas says is in force. */
  applied: number;
  source: 'applied' | 'default';
  /** What to change: always `appClientsQuotaSetting`. */
  setting: string;
}

/** The mismatch between an app clients' gauge's configured limit and the quota Service Quotas reports, if any. */
export const quotaMismatchOf = (gauge: {
  quota: string;
  place: string;
  limit: number;
  applied?: AppliedQuota | undefined;
}): QuotaMismatch | undefined => {
  const { applied } = gauge;
  if (gauge.quota !== 'appClients' || !applied?.read || applied.value === gauge.limit) return undefined;
  return { userPoolId: gauge.place, configured: gauge.limit, applied: applied.value, source: applied.source, setting: appClientsQuotaSetting };
};
