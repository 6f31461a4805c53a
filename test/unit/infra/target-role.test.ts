import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PortalCredentialsTargetRole, type PortalCredentialsTargetRoleProps } from '../../../infra/index.ts';
import { nagFindings } from '../../helpers/webhook-stack.ts';

const targetAccount = { account: '222222222222', region: 'eu-west-1' };
const props: PortalCredentialsTargetRoleProps = {
  webhookAccount: '111111111111',
  externalId: 'portal-credentials-PortalCredentialsWebhook',
  regions: ['eu-west-1', 'us-east-1'],
  usagePlanIds: ['222222222222/eu-west-1/plan01', '222222222222/us-east-1/plan02'],
};

const synthesize = (changes: Partial<PortalCredentialsTargetRoleProps> = {}) => {
  const stack = new Stack(new App(), 'Target', { env: targetAccount });
  const target = new PortalCredentialsTargetRole(stack, 'PortalTarget', { ...props, ...changes });
  return { stack, target, template: Template.fromStack(stack) };
};

type Statement = { Sid: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const statementsOf = (template: Template) =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
/** Every resource as text, the partition shown as `<partition>`. */
const resourcesOf = (statement: Statement) =>
  [statement.Resource]
    .flat()
    .map((resource) =>
      typeof resource === 'string'
        ? resource
        : ((resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? [])
            .map((part) => (typeof part === 'string' ? part : '<partition>'))
            .join(''),
    );

describe('the role another account deploys for the webhook', () => {
  it("lets only the webhook's account assume it, and only with the agreed external id", () => {
    // Act
    const { template } = synthesize();

    // Assess
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] } },
            Condition: { StringEquals: { 'sts:ExternalId': 'portal-credentials-PortalCredentialsWebhook' } },
          },
        ],
      },
    });
  });

  it("narrows the trust to the webhook's function roles when they are named", () => {
    // Prepare
    const functionRole = 'arn:aws:iam::111111111111:role/PortalCredentialsWebhook-CreateCredentialsRole';

    // Act
    const { template } = synthesize({ webhookRoleArns: [functionRole] });

    // Assess
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: {
              StringEquals: { 'sts:ExternalId': 'portal-credentials-PortalCredentialsWebhook' },
              ArnEquals: { 'aws:PrincipalArn': [functionRole] },
            },
          }),
        ],
      },
    });
  });

  it('allows API Gateway in the named Regions only, on the named usage plans only, reading and deleting only tagged keys', () => {
    // Act
    const statements = statementsOf(synthesize().template);
    const resources = statements.flatMap(resourcesOf);

    // Assess
    expect(resources.length).toBeGreaterThan(0);
    for (const resource of resources) expect(resource).toMatch(/^arn:<partition>:apigateway:(eu-west-1|us-east-1)::\//);
    for (const region of ['eu-west-1', 'us-east-1']) expect(resources).toContain(`arn:<partition>:apigateway:${region}::/apikeys`);
    const plans = resources.filter((resource) => resource.includes('/usageplans/'));
    expect(plans).toContain('arn:<partition>:apigateway:eu-west-1::/usageplans/plan01/keys');
    expect(plans).toContain('arn:<partition>:apigateway:us-east-1::/usageplans/plan02/keys/*');
    expect(plans.filter((plan) => plan.includes(':eu-west-1::') && plan.includes('plan02'))).toEqual([]);
    for (const sid of ['ReadOwnApiKeys', 'DeleteOwnApiKeys']) {
      expect(statements.find((statement) => statement.Sid === sid)?.Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/managed-by': 'portal-credentials-webhook' },
      });
    }
  });

  it('synthesizes in a stack of its own, cdk-nag clean, with the role ARN as an output, with or without named plans', () => {
    for (const changes of [{}, { usagePlanIds: undefined }]) {
      // Act
      const { stack, template } = synthesize(changes);

      // Assess
      expect(nagFindings(stack)).toEqual([]);
      template.hasOutput('*', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PortalTargetRole'), 'Arn'] } });
    }
  });

  it('refuses, naming the prop, a usage plan of a Region or account it does not serve, and a bad external id', () => {
    // Act + Assess
    expect(() => synthesize({ usagePlanIds: ['222222222222/ap-south-1/plan03'] })).toThrow(/usagePlanIds: "222222222222\/ap-south-1\/plan03"/);
    expect(() => synthesize({ usagePlanIds: ['333333333333/eu-west-1/plan03'] })).toThrow(/usagePlanIds: "333333333333\/eu-west-1\/plan03"/);
    expect(() => synthesize({ externalId: 'a b' })).toThrow(/externalId: must be/);
    expect(() => synthesize({ regions: ['Europe'] })).toThrow(/regions: "Europe"/);
  });
});
