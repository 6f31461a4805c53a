import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { buildStack, testEnv } from '../../helpers/webhook-stack.ts';

/** A policy whose client-credentials APIs need `servers` resource servers of `scopesEach` scopes each. */
const withScopes = (servers: number, scopesEach: number) => (settings: Record<string, unknown>) => ({
  ...settings,
  credentialPolicy: {
    defaultType: 'API_KEY',
    apis: Object.fromEntries(
      Array.from({ length: servers }, (_, server) => [
        `api${String(server).padStart(7, '0')}`,
        {
          type: 'CLIENT_CREDENTIALS',
          // One app client holds at most 50 scopes: an API of 100 scopes is split over two.
          scopes: Array.from({ length: Math.min(scopesEach, 50) }, (_, scope) => `server-${server}/scope-${scope}`),
        },
      ]),
    ),
  },
  sampleApi: { ...(settings.sampleApi as object), paymentsScope: 'server-0/scope-0' },
});

describe("Cognito's resource-server quotas, seen at synth", () => {
  it('warns from 80 % of the resource servers a pool may hold', () => {
    // Act
    const { stack } = buildStack({ bundle: false, env: testEnv, change: withScopes(20, 1) });

    // Assess
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('The scopes take 20 of the 25 resource servers in the user pool'));
  });

  it('warns from 80 of the 100 scopes a resource server may hold', () => {
    // Act: two APIs of 40 scopes each, on one resource server.
    const { stack } = buildStack({
      bundle: false,
      env: testEnv,
      change: (settings) => ({
        ...withScopes(1, 1)(settings),
        credentialPolicy: {
          defaultType: 'API_KEY',
          apis: Object.fromEntries(
            [0, 1].map((api) => [
              `api${api}000000`,
              { type: 'CLIENT_CREDENTIALS', scopes: Array.from({ length: 40 }, (_, scope) => `server-0/scope-${api * 40 + scope}`) },
            ]),
          ),
        },
      }),
    });

    // Assess
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('The scopes take 80 of the 100 scopes of resource server server-0'));
  });

  it('says nothing below 80 %', () => {
    // Act
    const { stack } = buildStack({ bundle: false, env: testEnv, change: withScopes(2, 3) });

    // Assess
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('The scopes take'));
  });
});
