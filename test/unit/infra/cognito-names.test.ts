import { describe, expect, it } from 'vitest';
import { defaultDomainPrefix, resourceServersFor } from '../../../infra/cognito-names.ts';

/** What Cognito accepts (CreateResourceServer and CreateUserPoolDomain in the API reference). */
const cognitoName = /^[\w\s+=,.@-]+$/;
const cognitoIdentifier = /^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/;
const domainPrefix = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

describe('resourceServersFor', () => {
  it('derives a name Cognito accepts from a URL-like identifier, keeping the identifier', () => {
    // Act
    const [server] = resourceServersFor(['api.example.com/orders/read', 'api.example.com/orders/write']);

    // Assess
    expect(server).toMatchObject({ identifier: 'api.example.com/orders', scopeNames: ['read', 'write'] });
    expect(server?.name).toMatch(cognitoName);
    expect(server?.identifier).toMatch(cognitoIdentifier);
  });

  it('keeps the construct id earlier versions gave, and tells apart identifiers that share its letters', () => {
    // Act
    const servers = resourceServersFor(['portal-sample/payments.read', 'a.b/x', 'ab/y']);

    // Assess
    expect(servers.map((server) => server.id)).toEqual([
      'ResourceServerab',
      expect.stringMatching(/^ResourceServerab[0-9a-f]{8}$/),
      'ResourceServerportalsample',
    ]);
  });

  it.each([
    ['more resource servers than a pool holds', Array.from({ length: 26 }, (_, i) => `server${i}/read`), /at most 25/],
    ['more scopes than a resource server holds', Array.from({ length: 101 }, (_, i) => `orders/scope${i}`), /Cognito allows 100/],
    ['an identifier over 256 characters', [`${'a'.repeat(257)}/read`], /at most 256 characters/],
  ])('refuses at synth, naming the limit, %s', (_case, scopes, message) => {
    // Act + Assess
    expect(() => resourceServersFor(scopes)).toThrow(message);
  });
});

describe('defaultDomainPrefix', () => {
  it('differs between two stacks of one account, so staging and production can live side by side', () => {
    // Act
    const production = defaultDomainPrefix('PortalCredentialsWebhook', '123456789012');
    const staging = defaultDomainPrefix('PortalCredentialsWebhook-staging', '123456789012');

    // Assess
    expect(production).toBe('portalcredentialswebhook-123456789012');
    expect(staging).toBe('portalcredentialswebhook-staging-123456789012');
  });

  it.each(['MyAwsCognitoStack', 'Amazon', `Long${'x'.repeat(120)}A`, `Long${'x'.repeat(120)}B`])(
    'gives a prefix Cognito accepts for the stack name %s',
    (stackName) => {
      // Act
      const prefix = defaultDomainPrefix(stackName, '123456789012');

      // Assess
      expect(prefix).toMatch(domainPrefix);
      expect(prefix).not.toMatch(/aws|amazon|cognito/);
    },
  );

  it('keeps long stack names apart by a hash of the whole name', () => {
    // Act + Assess
    expect(defaultDomainPrefix(`Long${'x'.repeat(120)}A`, '123456789012')).not.toBe(defaultDomainPrefix(`Long${'x'.repeat(120)}B`, '123456789012'));
  });
});
