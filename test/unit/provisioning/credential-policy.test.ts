import { APIGatewayClient, GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CredentialPolicySettings } from '#commons/config';
import { CredentialPolicy } from '#provisioning/credential-policy';
import { type ApiStage, UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import { aws, awsError, resetAwsMocks } from '../../helpers/aws-mocks.ts';

const settings: CredentialPolicySettings = {
  defaultType: 'API_KEY',
  apis: {
    pay1: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read', 'payments/write'] },
    pay2: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read', 'refunds/write'] },
    bare: { type: 'CLIENT_CREDENTIALS' },
  },
};
const prod = (apiId: string): ApiStage => ({ apiId, stage: 'prod' });

/** The account's usage plans, as GetUsagePlan answers them. */
let plans: Record<string, ApiStage[]>;
const policy = (overrides: Partial<CredentialPolicySettings> = {}) =>
  new CredentialPolicy({ ...settings, ...overrides }, new UsagePlanCatalog(new APIGatewayClient({ region: 'us-east-1' })));
const api = (id: string, ...planIds: string[]) => ({ id, usagePlans: planIds.map((planId) => ({ id: planId })) });
const planReads = () => aws.apiGateway.commandCalls(GetUsagePlanCommand).map((call) => call.args[0].input.usagePlanId);

describe('CredentialPolicy', () => {
  beforeEach(() => {
    resetAwsMocks();
    plans = {
      p1: [prod('orders'), prod('stock')],
      p2: [{ apiId: 'orders', stage: 'beta' }],
      gold: [prod('orders')],
      both: [prod('orders'), prod('pay1')],
    };
    aws.apiGateway.on(GetUsagePlanCommand).callsFake(async ({ usagePlanId }) => {
      if (!Object.hasOwn(plans, usagePlanId)) throw awsError('NotFoundException', 404);
      return { id: usagePlanId, apiStages: plans[usagePlanId] };
    });
  });

  it('grants an API key the union of the usage plans, once each, when each serves the API it is listed under', async () => {
    // Act
    const resolved = await policy().resolve([api('orders', 'p2', 'p1'), api('stock', 'p1')]);

    // Assess
    expect(resolved).toEqual({ credentialType: 'API_KEY', grant: { apiIds: ['orders', 'stock'], usagePlanIds: ['p1', 'p2'], scopes: [] } });
  });

  it('grants client credentials the union of the configured scopes, reading no usage plan', async () => {
    // Act
    const resolved = await policy().resolve([api('pay1', 'p1'), api('pay2')]);

    // Assess
    expect(resolved.grant.scopes).toEqual(['payments/read', 'payments/write', 'refunds/write']);
    expect(resolved.credentialType).toBe('CLIENT_CREDENTIALS');
    expect(planReads()).toEqual([]);
  });

  it('refuses with 422 APIs that need different credential types, saying which needs which', async () => {
    // Act + Assess
    await expect(policy().resolve([api('orders', 'p1'), api('pay1')])).rejects.toMatchObject({
      statusCode: 422,
      code: 'MIXED_CREDENTIAL_TYPES',
      message: expect.stringMatching(/orders needs API_KEY, pay1 needs CLIENT_CREDENTIALS/),
    });
  });

  it('refuses with 422 an API without configured scopes in a client-credentials request', async () => {
    // Act + Assess
    await expect(policy().resolve([api('pay1'), api('bare')])).rejects.toMatchObject({
      statusCode: 422,
      code: 'API_NOT_CONFIGURED',
      message: expect.stringContaining('bare'),
    });
  });

  it.each(['zzzzzzzzzz', 'constructor', '__proto__', 'toString'])(
    'refuses with 422 the client-credentials API %s that the policy does not know',
    async (apiId) => {
      // Prepare: client credentials by default, so the unknown id is not taken for an API key.
      const clientCredentials = policy({ defaultType: 'CLIENT_CREDENTIALS' });

      // Act + Assess
      await expect(clientCredentials.resolve([api(apiId)])).rejects.toMatchObject({
        statusCode: 422,
        code: 'API_NOT_CONFIGURED',
        message: expect.stringContaining(apiId),
      });
    },
  );

  it('refuses with 422 an API key that would reach an API through no usage plan', async () => {
    // Act + Assess
    await expect(policy().resolve([api('orders')])).rejects.toMatchObject({ statusCode: 422, code: 'USAGE_PLAN_REQUIRED' });
  });

  it("refuses with 422, before any AWS call, a usage plan outside the deployment's list", async () => {
    // Prepare
    const restricted = policy({ usagePlanIds: ['p1', 'p2'] });

    // Act + Assess
    expect((await restricted.resolve([api('orders', 'p1')])).grant.usagePlanIds).toEqual(['p1']);
    await expect(restricted.resolve([api('orders', 'p1', 'p9')])).rejects.toMatchObject({
      statusCode: 422,
      code: 'UNKNOWN_USAGE_PLAN',
      message: expect.stringContaining('p9'),
    });
    expect(planReads()).toEqual(['p1']);
  });

  it('refuses with 422, before any AWS call, more usage plans than one API key can join', async () => {
    // Prepare
    const apis = Array.from({ length: 11 }, (_, index) => api(`api${index}`, `plan${index}`));

    // Act + Assess
    await expect(policy().resolve(apis)).rejects.toMatchObject({ statusCode: 422, code: 'TOO_MANY_USAGE_PLANS' });
    expect(planReads()).toEqual([]);
  });

  it('refuses with 422 a usage plan that does not exist', async () => {
    // Act + Assess
    await expect(policy().resolve([api('orders', 'p1', 'nope42')])).rejects.toMatchObject({
      statusCode: 422,
      code: 'UNKNOWN_USAGE_PLAN',
      message: 'Usage plan nope42 does not exist in this deployment.',
    });
  });

  it('refuses with 422 a usage plan listed under an API it does not serve, naming both', async () => {
    // Act + Assess
    await expect(policy().resolve([api('orders', 'p1'), api('stock', 'p2')])).rejects.toMatchObject({
      statusCode: 422,
      code: 'USAGE_PLAN_NOT_FOR_API',
      message: 'Usage plan p2 does not serve API stock; name a usage plan of that API.',
    });
  });

  it.each(['zzzzzzzzzz', 'constructor', '__proto__', 'hasOwnProperty'])('refuses with 422 the API %s, which no usage plan serves', async (apiId) => {
    // Act + Assess
    await expect(policy().resolve([api(apiId, 'p1')])).rejects.toMatchObject({
      statusCode: 422,
      code: 'USAGE_PLAN_NOT_FOR_API',
      message: expect.stringContaining(apiId),
    });
  });

  it('refuses with 422 a usage plan that also opens an API reserved for client credentials', async () => {
    // Act + Assess
    await expect(policy().resolve([api('orders', 'both')])).rejects.toMatchObject({
      statusCode: 422,
      code: 'USAGE_PLAN_NOT_FOR_API',
      message: expect.stringMatching(/both also serves API pay1, which this deployment serves with client credentials only/),
    });
  });

  it('refuses with 422 two usage plans of one API stage, naming both and the stage', async () => {
    // Act: p1 and gold both serve orders/prod, even when listed under different APIs.
    const asked = policy().resolve([api('orders', 'gold'), api('stock', 'p1')]);

    // Assess
    await expect(asked).rejects.toMatchObject({
      statusCode: 422,
      code: 'USAGE_PLANS_SHARE_STAGE',
      message: expect.stringMatching(/^Usage plans gold and p1 both serve API stage orders\/prod/),
    });
  });

  it('checks a refusal against AWS first: a plan given the API since it was cached is accepted', async () => {
    // Prepare: p2 is cached as serving orders/beta only; then the operator adds stock/prod to it.
    const cached = policy();
    await cached.resolve([api('orders', 'p2')]);
    plans.p2 = [{ apiId: 'orders', stage: 'beta' }, prod('stock')];

    // Act
    const resolved = await cached.resolve([api('stock', 'p2')]);

    // Assess
    expect(resolved.grant.usagePlanIds).toEqual(['p2']);
    expect(planReads()).toEqual(['p2', 'p2']);
  });

  it('answers from its cache a request it accepts', async () => {
    // Prepare
    const cached = policy();
    await cached.resolve([api('orders', 'p1')]);

    // Act
    await cached.resolve([api('stock', 'p1')]);

    // Assess
    expect(planReads()).toEqual(['p1']);
  });
});
