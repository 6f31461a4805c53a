import type { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { describe, expect, it } from 'vitest';
import { ApiKeyProvisioner } from '#provisioning/api-key-provisioner';
import { ClientCredentialsProvisioner } from '#provisioning/client-credentials-provisioner';
import { UsagePlanCatalog } from '#provisioning/usage-plan-catalog';

// What a credential takes of its own quotas is worked out from the grant alone: no client is called.
const apiGateway = {} as APIGatewayClient;
const home = { account: '111111111111', region: 'eu-west-1' };
const europe = { account: '111111111111', region: 'eu-central-1', apiGateway, usagePlans: new UsagePlanCatalog(apiGateway) };
const apiKeys = new ApiKeyProvisioner(apiGateway, new UsagePlanCatalog(apiGateway), undefined, 'Portal', {
  home,
  elsewhere: [{ ...europe, place: { account: europe.account, region: europe.region } }],
});
const grant = (usagePlanIds: string[], scopes: string[] = []) => ({ apiIds: [], usagePlanIds, scopes });

describe('what one credential takes of the quotas each credential has on its own', () => {
  it('counts an API key’s usage plans in each place it lives, of the 10 a key may join there', () => {
    // Act
    const taken = apiKeys.quotasTaken(grant(['abc001', 'abc002', 'abc003', '111111111111/eu-central-1/def001']));

    // Assess
    expect(taken).toEqual([
      { quota: 'usagePlansPerKey', place: '111111111111/eu-west-1', used: 3, limit: 10 },
      { quota: 'usagePlansPerKey', place: '111111111111/eu-central-1', used: 1, limit: 10 },
    ]);
  });

  it('counts an app client’s scopes in its pool, of the 50 a client may hold', () => {
    // Prepare
    const clients = new ClientCredentialsProvisioner({} as CognitoIdentityProviderClient, {
      userPoolId: 'eu-west-1_AbC123',
      tokenUrl: 'https://auth.example.com/oauth2/token',
      accessTokenValidityMinutes: 60,
    });

    // Act
    const taken = clients.quotasTaken(grant([], ['orders/read', 'orders/write']));

    // Assess
    expect(taken).toEqual([{ quota: 'scopesPerClient', place: 'eu-west-1_AbC123', used: 2, limit: 50 }]);
  });
});
