import { describe, expect, it } from 'vitest';
import { CredentialPolicy } from '#provisioning/credential-policy';

const policy = new CredentialPolicy({
  defaultType: 'API_KEY',
  apis: {
    pay1: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read', 'payments/write'] },
    pay2: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read', 'refunds/write'] },
    bare: { type: 'CLIENT_CREDENTIALS' },
  },
});
const api = (id: string, ...plans: string[]) => ({ id, usagePlans: plans.map((planId) => ({ id: planId })) });

describe('CredentialPolicy', () => {
  it('grants an API key the union of the usage plans, once each', () => {
    // Act
    const resolved = policy.resolve([api('orders', 'p2', 'p1'), api('stock', 'p1')]);

    // Assess
    expect(resolved).toEqual({ credentialType: 'API_KEY', grant: { apiIds: ['orders', 'stock'], usagePlanIds: ['p1', 'p2'], scopes: [] } });
  });

  it('grants client credentials the union of the configured scopes', () => {
    // Act
    const resolved = policy.resolve([api('pay1'), api('pay2')]);

    // Assess
    expect(resolved.grant.scopes).toEqual(['payments/read', 'payments/write', 'refunds/write']);
    expect(resolved.credentialType).toBe('CLIENT_CREDENTIALS');
  });

  it('refuses with 422 APIs that need different credential types, saying which needs which', () => {
    // Act + Assess
    expect(() => policy.resolve([api('orders', 'p1'), api('pay1')])).toThrow(
      expect.objectContaining({ statusCode: 422, code: 'MIXED_CREDENTIAL_TYPES', message: expect.stringMatching(/orders needs API_KEY, pay1 needs CLIENT_CREDENTIALS/) }),
    );
  });

  it('refuses with 422 an API without configured scopes in a client-credentials request', () => {
    // Act + Assess
    expect(() => policy.resolve([api('pay1'), api('bare')])).toThrow(expect.objectContaining({ statusCode: 422, code: 'API_NOT_CONFIGURED', message: expect.stringContaining('bare') }));
  });

  it('refuses with 422 an API key that would reach an API through no usage plan', () => {
    // Act + Assess
    expect(() => policy.resolve([api('orders')])).toThrow(expect.objectContaining({ statusCode: 422, code: 'USAGE_PLAN_REQUIRED' }));
  });

  it('refuses with 422, before any AWS call, a usage plan outside the deployment\'s list', () => {
    // Prepare
    const restricted = new CredentialPolicy({ defaultType: 'API_KEY', apis: {}, usagePlanIds: ['p1', 'p2'] });

    // Act + Assess
    expect(restricted.resolve([api('orders', 'p1')]).grant.usagePlanIds).toEqual(['p1']);
    expect(() => restricted.resolve([api('orders', 'p1', 'p9')])).toThrow(
      expect.objectContaining({ statusCode: 422, code: 'UNKNOWN_USAGE_PLAN', message: expect.stringContaining('p9') }),
    );
  });

  it('refuses with 422 more usage plans than one API key can join', () => {
    // Prepare
    const apis = Array.from({ length: 11 }, (_, index) => api(`api${index}`, `plan${index}`));

    // Act + Assess
    expect(() => policy.resolve(apis)).toThrow(expect.objectContaining({ statusCode: 422, code: 'TOO_MANY_USAGE_PLANS' }));
  });
});
