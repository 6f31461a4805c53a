import { describe, expect, it } from 'vitest';
import { loadConfig } from '#commons/config';

const minimal = { REGISTRY_TABLE_NAME: 'registry', BASIC_AUTH_SECRET_ID: 'secret' };

describe('loadConfig', () => {
  it('fills the defaults for a minimal environment', () => {
    // Act
    const config = loadConfig(minimal);

    // Assess
    expect(config).toEqual({
      deploymentId: 'local',
      home: { account: '000000000000', region: 'us-east-1' },
      registryTableName: 'registry',
      basicAuth: { secretId: 'secret', realm: 'portal-credentials-webhook', cacheSeconds: 300 },
      credentialPolicy: { defaultType: 'API_KEY', apis: {} },
      claim: { leaseMs: 60_000, waitMs: 15_000, leaseMarginMs: 10_000 },
      authentication: { schemes: ['basic'], apiKeyHeader: 'X-Webhook-Key', cognitoScope: 'webhook/invoke' },
    });
  });

  it.each([
    [{}, /REGISTRY_TABLE_NAME/],
    [{ ...minimal, BASIC_AUTH_CACHE_SECONDS: 'soon' }, /BASIC_AUTH_CACHE_SECONDS/],
    [{ ...minimal, DEPLOYMENT_ID: 'staging stack' }, /DEPLOYMENT_ID: must be a CloudFormation stack name/],
    [{ ...minimal, CREDENTIAL_POLICY: '{not json' }, /CREDENTIAL_POLICY: is not valid JSON/],
    [{ ...minimal, CREDENTIAL_POLICY: '{"defaultType":"TOKEN"}' }, /CREDENTIAL_POLICY.defaultType/],
    [{ ...minimal, CREDENTIAL_POLICY: '{"apis":{"a1":{"scopes":["no-slash"]}}}' }, /CREDENTIAL_POLICY.apis.a1.scopes.0/],
    [{ ...minimal, CREDENTIAL_POLICY: '{"defaultType":"CLIENT_CREDENTIALS"}' }, /USER_POOL_ID and TOKEN_URL are required/],
    [{ ...minimal, AUTH_SCHEMES: 'basic,digest' }, /AUTH_SCHEMES.1/],
    [{ ...minimal, AUTH_SCHEMES: 'basic,basic' }, /AUTH_SCHEMES: names a scheme twice/],
    [{ ...minimal, AUTH_SCHEMES: ' , ' }, /AUTH_SCHEMES: must name at least one scheme/],
    [{ ...minimal, AUTH_SCHEMES: 'basic,cognito' }, /AUTH_SCHEMES: cognito and iam are checked by API Gateway/],
    [{ ...minimal, AUTH_SCHEMES: 'apiKey', API_KEY_HEADER: 'Authorization' }, /API_KEY_HEADER: must not be Authorization/],
    [{ ...minimal, AUTH_SCHEMES: 'jwt' }, /JWT_ISSUER is required/],
    [{ ...minimal, AUTH_SCHEMES: 'jwt', JWT_ISSUER: 'https://issuer.example.com' }, /JWT_AUDIENCES or JWT_CLIENT_IDS is required/],
    [{ ...minimal, AUTH_SCHEMES: 'jwt', JWT_ISSUER: 'https://issuer.example.com', JWT_AUDIENCES: 'webhook', JWT_SCOPE: 'two scopes' }, /JWT_SCOPE/],
  ])('fails the cold start naming the bad variable (%#)', (environment, message) => {
    // Act + Assess
    expect(() => loadConfig(environment)).toThrow(message);
  });

  it('takes the deployment id the stack sets in DEPLOYMENT_ID', () => {
    expect(loadConfig({ ...minimal, DEPLOYMENT_ID: 'PortalStaging' }).deploymentId).toBe('PortalStaging');
  });

  it('takes the usage plans the stack sets in USAGE_PLAN_IDS into the credential policy', () => {
    // Act
    const config = loadConfig({ ...minimal, USAGE_PLAN_IDS: '1el57v,2fm68w' });

    // Assess
    expect(config.credentialPolicy).toEqual({ defaultType: 'API_KEY', apis: {}, usagePlanIds: ['1el57v', '2fm68w'] });
  });

  it('takes usage plans of other places in USAGE_PLAN_IDS as account/region/id', () => {
    // Act
    const config = loadConfig({ ...minimal, USAGE_PLAN_IDS: '1el57v,222222222222/eu-west-1/7pt34b' });

    // Assess
    expect(config.credentialPolicy.usagePlanIds).toEqual(['1el57v', '222222222222/eu-west-1/7pt34b']);
  });

  it.each([
    [{ ...minimal, USAGE_PLAN_IDS: '1el57v,bad id!' }, /USAGE_PLAN_IDS\.1: must be a usage plan id/],
    [
      { ...minimal, USAGE_PLAN_IDS: '1el57v', CREDENTIAL_POLICY: '{"usagePlanIds":["2fm68w"]}' },
      /USAGE_PLAN_IDS or in CREDENTIAL_POLICY.usagePlanIds, not both/,
    ],
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
      appClientsQuota: 1_000,
    });
  });

  it('reads the access-token settings when jwt is enabled, the JWKS URL defaulting under the issuer', () => {
    // Act
    const config = loadConfig({
      ...minimal,
      AUTH_SCHEMES: 'basic, jwt',
      JWT_ISSUER: 'https://login.example.com/tenant/',
      JWT_AUDIENCES: 'api://webhook,webhook',
    });

    // Assess
    expect(config.authentication).toEqual({
      schemes: ['basic', 'jwt'],
      apiKeyHeader: 'X-Webhook-Key',
      cognitoScope: 'webhook/invoke',
      accessTokens: {
        issuer: 'https://login.example.com/tenant/',
        jwksUrl: 'https://login.example.com/tenant/.well-known/jwks.json',
        audiences: ['api://webhook', 'webhook'],
        clientIds: [],
        scope: 'webhook/invoke',
        jwksCacheSeconds: 600,
        maxTokenAgeSeconds: 86_400,
      },
    });
  });

  describe('places', () => {
    const policy = (value: unknown) => ({
      ...minimal,
      DEPLOYMENT_ACCOUNT_ID: '111111111111',
      AWS_REGION: 'us-east-1',
      CREDENTIAL_POLICY: JSON.stringify(value),
    });
    const role = 'arn:aws:iam::222222222222:role/portal-credentials-target';

    it('reads APIs placed in another Region of its account and in another account reached through its role', () => {
      // Prepare
      const env = policy({
        apis: { euapi00001: { region: 'eu-west-1' }, otherac001: { account: '222222222222', region: 'us-east-1' } },
        targets: [{ regions: ['eu-west-1'] }, { account: '222222222222', regions: ['us-east-1'], roleArn: role, externalId: 'portal-webhook-1' }],
      });

      // Act
      const config = loadConfig(env);

      // Assess
      expect(config.home).toEqual({ account: '111111111111', region: 'us-east-1' });
      expect(config.credentialPolicy.targets).toHaveLength(2);
    });

    it.each([
      [
        'an API in a Region no target covers',
        { apis: { euapi00001: { region: 'eu-west-1' } } },
        /API euapi00001 lives in the stack's own account, Region eu-west-1/,
      ],
      [
        'an API in an account no target covers',
        { apis: { otherac001: { account: '222222222222' } }, targets: [{ regions: ['eu-west-1'] }] },
        /API otherac001 lives in account 222222222222/,
      ],
      ['another account without a role', { targets: [{ account: '222222222222', regions: ['us-east-1'] }] }, /names no roleArn/],
      ['a role without an external id', { targets: [{ account: '222222222222', regions: ['us-east-1'], roleArn: role }] }, /no externalId/],
      [
        "a role of another account than the target's",
        { targets: [{ account: '333333333333', regions: ['us-east-1'], roleArn: role, externalId: 'portal-webhook-1' }] },
        /not a role of that account/,
      ],
    ])('refuses %s at cold start', (_, value, message) => {
      // Act & Assess
      expect(() => loadConfig(policy(value))).toThrow(message);
    });
  });
});
