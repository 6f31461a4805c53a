import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { describe, expect, it, vi } from 'vitest';
import { LAMBDA_ENVIRONMENT_LIMIT_BYTES } from '../../../infra/function-environment.ts';
import { PortalCredentialsWebhook } from '../../../infra/portal-credentials-webhook.ts';
import { MAX_PLANS_SCOPED_BY_ARN } from '../../../infra/route-permissions.ts';
import { parseSettings } from '../../../infra/settings.ts';
import { buildStack, cdkJson, nagFindings, testEnv } from '../../helpers/webhook-stack.ts';

// Each test synthesizes a stack of its own: seconds each on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

/** `count` usage plan ids shaped like API Gateway's (6 letters and digits). */
const planIds = (count: number) => Array.from({ length: count }, (_, i) => `p${i.toString(36).padStart(5, '0')}`);

/** IAM's limit on a role's inline policies, all together (IAM quotas). */
const IAM_INLINE_POLICY_LIMIT = 10_240;

const synthesize = (change: (settings: Record<string, unknown>) => Record<string, unknown>, stackName?: string) => {
  const { stack } = buildStack({ bundle: false, env: testEnv, change, ...(stackName ? { stackName } : {}) });
  return { stack, template: Template.fromStack(stack) };
};

/** The environments of the functions that read the webhook's settings (the history's stream consumer reads only its table). */
const environmentOf = (template: Template) =>
  Object.values(template.findResources('AWS::Lambda::Function'))
    .map((fn) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables)
    .filter((variables) => variables.REGISTRY_TABLE_NAME !== undefined);

describe('a portal with many usage plans', () => {
  it.each([1, MAX_PLANS_SCOPED_BY_ARN, 299])(
    "synthesizes with %s configured plans (and the sample plan): no overflow policy, every role within IAM's inline limit, cdk-nag clean",
    (count) => {
      // Act
      const { stack, template } = synthesize((settings) => ({ ...settings, usagePlanIds: planIds(count) }));

      // Assess: the rendered documents hold Fn::Join and are longer than what IAM counts.
      template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
      for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
        expect(JSON.stringify(policy.Properties.PolicyDocument).length).toBeLessThan(IAM_INLINE_POLICY_LIMIT);
      }
      expect(nagFindings(stack)).toEqual([]);
      for (const variables of environmentOf(template)) expect(JSON.stringify(variables).length).toBeLessThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    },
  );

  it(`names each plan while there are at most ${MAX_PLANS_SCOPED_BY_ARN}, and one pattern for all beyond`, () => {
    // Act
    const linkResources = (count: number) => {
      const { template } = synthesize((settings) => ({ ...settings, sampleApi: { enabled: false }, usagePlanIds: planIds(count) }));
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (policy) => (policy.Properties.PolicyDocument as { Statement: { Sid?: string; Resource: unknown }[] }).Statement,
      );
      return [statements.find((statement) => statement.Sid === 'LinkApiKeysToUsagePlans')?.Resource].flat();
    };

    // Assess
    expect(linkResources(MAX_PLANS_SCOPED_BY_ARN)).toHaveLength(MAX_PLANS_SCOPED_BY_ARN);
    expect(JSON.stringify(linkResources(MAX_PLANS_SCOPED_BY_ARN))).toContain('/usageplans/p00000/keys');
    expect(linkResources(MAX_PLANS_SCOPED_BY_ARN + 1)).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:eu-west-1::/usageplans/*/keys']] },
    ]);
  });

  it('gives the functions every plan id in USAGE_PLAN_IDS, and refuses more than the Region can hold', () => {
    // Act
    const { template } = synthesize((settings) => ({ ...settings, sampleApi: { enabled: false }, usagePlanIds: planIds(299) }));

    // Assess
    for (const variables of environmentOf(template)) expect(variables.USAGE_PLAN_IDS).toBe(planIds(299).join(','));
    expect(() => parseSettings({ ...(cdkJson.context.portalCredentialsWebhook as object), usagePlanIds: planIds(300) })).toThrow(
      /usagePlanIds: at most 299/,
    );
  });

  it("refuses at synth, naming Lambda's 4 KB, an environment Lambda would refuse", () => {
    // Prepare
    const stack = new Stack(new App(), 'Huge', { env: testEnv });

    // Act + Assess
    expect(() => new PortalCredentialsWebhook(stack, 'Webhook', { sampleApi: false, usagePlanIds: planIds(600) })).toThrow(
      /Lambda allows 4096 in total.*USAGE_PLAN_IDS/,
    );
  });
});

describe('a portal with many APIs', () => {
  /** 200 client-credential APIs over 20 resource servers (a pool holds 25). */
  const apis = Object.fromEntries(
    Array.from({ length: 200 }, (_, i) => [
      `api${String(i).padStart(7, '0')}`,
      { type: 'CLIENT_CREDENTIALS', scopes: [`api.example.com/team${i % 20}/read${i}`] },
    ]),
  );

  it('synthesizes 200 client-credential APIs with the policy out of the environment, cdk-nag clean', () => {
    // Act
    const { stack, template } = synthesize((settings) => ({
      ...settings,
      credentialPolicy: { defaultType: 'API_KEY', apis },
      sampleApi: { enabled: true },
    }));

    // Assess
    expect(JSON.stringify(apis).length).toBeGreaterThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES * 3);
    for (const variables of environmentOf(template)) {
      expect(Object.keys(variables)).not.toContain('CREDENTIAL_POLICY');
      expect(JSON.stringify(variables).length).toBeLessThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    }
    template.resourceCountIs('AWS::Cognito::UserPoolResourceServer', 20);
    expect(nagFindings(stack)).toEqual([]);
  });

  it('refuses a policy whose API ids or scopes are tokens: it is built into the bundles at synth', () => {
    // Prepare
    const stack = new Stack(new App(), 'Tokens', { env: testEnv });
    const api = new apigateway.RestApi(stack, 'Api');
    api.root.addMethod('GET');

    // Act + Assess
    expect(() => new PortalCredentialsWebhook(stack, 'Webhook', { credentialPolicy: { apis: { [api.restApiId]: { type: 'API_KEY' } } } })).toThrow(
      /must be plain strings, not tokens/,
    );
  });
});

describe('Cognito names', () => {
  it('gives a scope like api.example.com/orders/read a resource server whose name Cognito accepts', () => {
    // Act
    const { template } = synthesize((settings) => ({
      ...settings,
      credentialPolicy: { apis: { a1: { type: 'CLIENT_CREDENTIALS', scopes: ['api.example.com/orders/read'] } } },
      sampleApi: { enabled: true, paymentsScope: 'api.example.com/orders/read' },
    }));

    // Assess
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'api.example.com/orders',
      Name: Match.stringLikeRegexp('^[\\w\\s+=,.@-]+$'),
    });
  });

  it('gives two stacks of one account and Region different default domains', () => {
    // Act
    const domainOf = (stackName: string) => synthesize((settings) => settings, stackName).template.findResources('AWS::Cognito::UserPoolDomain');
    const [production] = Object.values(domainOf('PortalCredentialsWebhook'));
    const [staging] = Object.values(domainOf('PortalCredentialsWebhookStaging'));

    // Assess
    expect(production?.Properties.Domain).toBe('portalcredentialswebhook-123456789012');
    expect(staging?.Properties.Domain).toBe('portalcredentialswebhookstaging-123456789012');
  });
});
