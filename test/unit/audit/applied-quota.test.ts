import {
  ListAWSDefaultServiceQuotasCommand,
  ListServiceQuotasCommand,
  NoSuchResourceException,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readAppClientsQuota } from '../../../lambda/audit/applied-quota.ts';
import { awsError } from '../../helpers/aws-errors.ts';

const serviceQuotas = mockClient(ServiceQuotasClient);
const client = new ServiceQuotasClient({ region: 'eu-west-1' });
const quota = (QuotaName: string, Value: number, QuotaCode = 'L-0000TEST') => ({ ServiceCode: 'cognito-idp', QuotaName, QuotaCode, Value });

describe("reading the pool's quota of app clients from Service Quotas", () => {
  beforeEach(() => serviceQuotas.reset());

  it("finds the applied value by the quota's name, whatever its case, on a later page of cognito-idp's quotas", async () => {
    // Prepare
    serviceQuotas
      .on(ListServiceQuotasCommand, { ServiceCode: 'cognito-idp', NextToken: undefined })
      .resolves({ Quotas: [quota('User pools per Region', 1_000)], NextToken: 'p2' })
      .on(ListServiceQuotasCommand, { ServiceCode: 'cognito-idp', NextToken: 'p2' })
      .resolves({ Quotas: [quota('App Clients per User Pool', 2_000, 'L-APPCLNT')] });

    // Act
    const read = await readAppClientsQuota(client);

    // Assess
    expect(read).toEqual({ read: true, value: 2_000, source: 'applied', quotaCode: 'L-APPCLNT' });
    expect(serviceQuotas.commandCalls(ListAWSDefaultServiceQuotasCommand)).toHaveLength(0);
  });

  it("takes AWS's default when the account lists no applied value for it", async () => {
    // Prepare
    serviceQuotas.on(ListServiceQuotasCommand).resolves({ Quotas: [quota('User pools per Region', 1_000)] });
    serviceQuotas.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [quota('App clients per user pool', 1_000)] });

    // Act + Assess
    expect(await readAppClientsQuota(client)).toEqual({ read: true, value: 1_000, source: 'default', quotaCode: 'L-0000TEST' });
  });

  it('says why it read nothing, and never throws: refused, unknown to the Region, or no quota of that name', async () => {
    // Prepare + Act + Assess
    serviceQuotas.on(ListServiceQuotasCommand).rejects(awsError('AccessDeniedException', 400));
    expect(await readAppClientsQuota(client)).toEqual({ read: false, reason: 'AccessDeniedException' });

    serviceQuotas.reset();
    serviceQuotas.on(ListServiceQuotasCommand).rejects(new NoSuchResourceException({ message: 'no such service', $metadata: {} }));
    expect(await readAppClientsQuota(client)).toEqual({ read: false, reason: 'NoSuchResourceException' });

    serviceQuotas.reset();
    serviceQuotas.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
    serviceQuotas.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [] });
    expect(await readAppClientsQuota(client)).toEqual({
      read: false,
      reason: 'Service Quotas lists no cognito-idp quota named "App clients per user pool"',
    });
  });
});
