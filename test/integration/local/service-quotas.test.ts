/**
 * Drives the Service Quotas part of the local control-plane stand-in with the real SDK client, so every
 * assertion also proves the wire format (awsJson1_1, its target prefix, its error shape).
 */
import {
  AccessDeniedException,
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  NoSuchResourceException,
  paginateListAWSDefaultServiceQuotas,
  paginateListServiceQuotas,
  type ServiceQuota,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsControlPlane, startAwsControlPlane } from '../../../local/stand-ins/aws-control-plane.ts';
import { APP_CLIENTS_QUOTA_CODE } from '../../../local/stand-ins/service-quotas.ts';

let controlPlane: AwsControlPlane;
let client: ServiceQuotasClient;

beforeAll(async () => {
  controlPlane = await startAwsControlPlane({ serviceQuotas: { appClientsPerUserPool: 2_500 } });
  client = new ServiceQuotasClient({
    region: 'us-east-1',
    endpoint: controlPlane.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await controlPlane.close();
});
beforeEach(() => controlPlane.reset());

const everyQuota = async (pages: AsyncIterable<{ Quotas?: ServiceQuota[] }>) => {
  const found: ServiceQuota[] = [];
  for await (const page of pages) found.push(...(page.Quotas ?? []));
  return found;
};
const appClients = (quotas: ServiceQuota[]) => quotas.find((quota) => quota.QuotaName === 'App clients per user pool');

describe('the local Service Quotas stand-in', () => {
  it("lists cognito-idp's applied quotas over several pages, the app clients per pool at the value set at start", async () => {
    // Act
    const quotas = await everyQuota(paginateListServiceQuotas({ client }, { ServiceCode: 'cognito-idp' }));

    // Assess
    expect(quotas.length).toBeGreaterThan(2);
    expect(appClients(quotas)).toMatchObject({ ServiceCode: 'cognito-idp', QuotaCode: APP_CLIENTS_QUOTA_CODE, Value: 2_500, Adjustable: true });
    expect(controlPlane.calls().ListServiceQuotas).toBeGreaterThan(1);
  });

  it("lists and gets AWS's default, 1,000, whatever the applied value", async () => {
    // Act
    const defaults = await everyQuota(paginateListAWSDefaultServiceQuotas({ client }, { ServiceCode: 'cognito-idp' }));
    const byCode = await client.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'cognito-idp', QuotaCode: APP_CLIENTS_QUOTA_CODE }));

    // Assess
    expect(appClients(defaults)?.Value).toBe(1_000);
    expect(byCode.Quota).toMatchObject({ QuotaName: 'App clients per user pool', Value: 1_000 });
  });

  it('gets the applied value by quota code, and follows a value changed while running until the next reset', async () => {
    // Prepare
    controlPlane.setServiceQuotas({ appClientsPerUserPool: 4_000 });
    const get = () => client.send(new GetServiceQuotaCommand({ ServiceCode: 'cognito-idp', QuotaCode: APP_CLIENTS_QUOTA_CODE }));

    // Act
    const changed = await get();
    controlPlane.reset();
    const reset = await get();

    // Assess
    expect(changed.Quota?.Value).toBe(4_000);
    expect(reset.Quota?.Value).toBe(2_500);
  });

  it('answers NoSuchResourceException for another service or an unknown quota code', async () => {
    // Act + Assess
    await expect(client.send(new GetServiceQuotaCommand({ ServiceCode: 'cognito-idp', QuotaCode: 'L-NOPE' }))).rejects.toBeInstanceOf(
      NoSuchResourceException,
    );
    await expect(everyQuota(paginateListServiceQuotas({ client }, { ServiceCode: 'lambda' }))).rejects.toBeInstanceOf(NoSuchResourceException);
  });

  it('refuses every operation with AccessDeniedException when told to, as AWS refuses a role without servicequotas: permissions', async () => {
    // Prepare
    controlPlane.setServiceQuotas({ accessDenied: true });

    // Act + Assess
    await expect(everyQuota(paginateListServiceQuotas({ client }, { ServiceCode: 'cognito-idp' }))).rejects.toBeInstanceOf(AccessDeniedException);
    await expect(
      client.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'cognito-idp', QuotaCode: APP_CLIENTS_QUOTA_CODE })),
    ).rejects.toBeInstanceOf(AccessDeniedException);
  });
});
