import { CognitoIdentityProviderClient, ListUserPoolClientsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '#commons/powertools';
import { aws, awsError, resetAwsMocks } from '../../helpers/aws-mocks.ts';

// A deployment issuing client credentials from its pool, counting against 1,000 app clients (before the handler loads).
vi.hoisted(() => {
  Object.assign(process.env, {
    CREDENTIAL_POLICY: JSON.stringify({ defaultType: 'CLIENT_CREDENTIALS', apis: { pay1: { scopes: ['payments/read'] } } }),
    USER_POOL_ID: 'us-east-1_Pool1',
    TOKEN_URL: 'https://auth.example.com/oauth2/token',
    APP_CLIENTS_QUOTA: '1000',
  });
});
const { handler } = await import('../../../lambda/handlers/audit.ts');
const cognito = mockClient(CognitoIdentityProviderClient);
const serviceQuotas = mockClient(ServiceQuotasClient);
const appliedQuota = (Value: number) => ({
  Quotas: [{ ServiceCode: 'cognito-idp', QuotaName: 'App clients per user pool', QuotaCode: 'L-APPCLNT', Value }],
});

describe("the scheduled audit and the pool's applied quota of app clients", () => {
  beforeEach(() => {
    resetAwsMocks();
    cognito.reset();
    serviceQuotas.reset();
    vi.restoreAllMocks();
    aws.dynamodb.on(ScanCommand).resolves({ Items: [] });
    cognito.on(ListUserPoolClientsCommand).resolves({ UserPoolClients: [] });
  });

  it('logs a warning naming the setting to change when the applied quota differs from the configured limit, and keeps counting against the configured one', async () => {
    // Prepare
    serviceQuotas.on(ListServiceQuotasCommand).resolves(appliedQuota(2_000));
    const warn = vi.spyOn(logger, 'warn');

    // Act
    const result = await handler();

    // Assess: no drift, the gauge's limit unchanged, one warning with the mismatch.
    expect(result.counts).toMatchObject({ ORPHAN: 0, GONE: 0 });
    expect(result.gauges).toEqual([
      expect.objectContaining({ quota: 'appClients', place: 'us-east-1_Pool1', limit: 1_000, applied: expect.objectContaining({ value: 2_000 }) }),
    ]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('clientCredentials.appClientsQuota'), {
      quotaMismatch: expect.objectContaining({ userPoolId: 'us-east-1_Pool1', configured: 1_000, applied: 2_000, source: 'applied' }),
    });
  });

  it('warns of nothing when the applied quota is the configured limit, nor when Service Quotas refuses (the gauge keeps the configured limit)', async () => {
    // Prepare
    serviceQuotas.on(ListServiceQuotasCommand).resolvesOnce(appliedQuota(1_000)).rejects(awsError('AccessDeniedException'));
    const warn = vi.spyOn(logger, 'warn');

    // Act
    const agreeing = await handler();
    const refused = await handler();

    // Assess
    expect(warn).not.toHaveBeenCalled();
    expect(agreeing.gauges[0]).toMatchObject({ limit: 1_000, applied: { read: true, value: 1_000 } });
    expect(refused.gauges[0]).toMatchObject({ limit: 1_000, applied: { read: false, reason: 'AccessDeniedException' } });
  });
});
