import { describe, expect, it } from 'vitest';
import { loadConfig } from '#commons/config';

const minimal = { REGISTRY_TABLE_NAME: 'registry', BASIC_AUTH_SECRET_ID: 'secret' };

describe('loadConfig', () => {
  it('fills the defaults for a minimal environment', () => {
    // Act
    const config = loadConfig(minimal);

    // Assess
    expect(config).toEqual({
      registryTableName: 'registry',
      basicAuth: { secretId: 'secret', realm: 'portal-credentials-webhook', cacheSeconds: 300 },
      credentialPolicy: { defaultType: 'API_KEY', apis: {} },
      claim: { leaseMs: 60_000, waitMs: 15_000 },
    });
  });

  it.each([
    [{}, /REGISTRY_TABLE_NAME/],
    [{ ...minimal, BASIC_AUTH_CACHE_SECONDS: 'soon' }, /BASIC_AUTH_CACHE_SECONDS/],
    [{ ...minimal, CREDENTIAL_POLICY: '{not json' }, /CREDENTIAL_POLICY: is not valid JSON/],
    [{ ...minimal, CREDENTIAL_POLICY: '{"defaultType":"TOKEN"}' }, /CREDENTIAL_POLICY.defaultType/],
    [{ ...minimal, CREDENTIAL_POLICY: '{"apis":{"a1":{"scopes":["no-slash"]}}}' }, /CREDENTIAL_POLICY.apis.a1.scopes.0/],
    [{ ...minimal, CREDENTIAL_POLICY: '{"defaultType":"CLIENT_CREDENTIALS"}' }, /USER_POOL_ID and TOKEN_URL are required/],
  ])('fails the cold start naming the bad variable (%#)', (environment, message) => {
    // Act + Assess
    expect(() => loadConfig(environment)).toThrow(message);
  });

  it('takes the usage plans the stack sets in USAGE_PLAN_IDS into the credential policy', () => {
    // Act
    const config = loadConfig({ ...minimal, USAGE_PLAN_IDS: '1el57v,2fm68w' });

    // Assess
    expect(config.credentialPolicy).toEqual({ defaultType: 'API_KEY', apis: {}, usagePlanIds: ['1el57v', '2fm68w'] });
  });

  it.each([
    [{ ...minimal, USAGE_PLAN_IDS: '1el57v, 2fm68w' }, /USAGE_PLAN_IDS: must be usage plan ids separated by commas/],
    [{ ...minimal, USAGE_PLAN_IDS: '1el57v', CREDENTIAL_POLICY: '{"usagePlanIds":["2fm68w"]}' }, /USAGE_PLAN_IDS or in CREDENTIAL_POLICY.usagePlanIds, not both/],
  ])('refuses usage plans named badly or twice (%#)', (environment, message) => {
    // Act + Assess
    expect(() => loadConfig(environment)).toThrow(message);
  });

  it('reads the Cognito settings when an API uses client credentials', () => {
    // Act
    const config = loadConfig({
      ...minimal,
      CREDENTIAL_POLICY: JSON.stringify({ apis: { pay1: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read'] } } }),
      USER_POOL_ID: 'us-east-1_AbCdEf123',
      TOKEN_URL: 'https://example.auth.us-east-1.amazoncognito.com/oauth2/token',
    });

    // Assess
    expect(config.cognito).toEqual({
      userPoolId: 'us-east-1_AbCdEf123',
      tokenUrl: 'https://example.auth.us-east-1.amazoncognito.com/oauth2/token',
      accessTokenValidityMinutes: 60,
    });
  });
});
