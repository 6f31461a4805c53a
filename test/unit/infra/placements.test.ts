import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { PortalCredentialsWebhook } from '../../../infra/index.ts';
import { parseSettings, type SettingsInput } from '../../../infra/settings.ts';
import { testEnv } from '../../helpers/webhook-stack.ts';

// Each test synthesizes a webhook of its own: seconds on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

const otherAccount = {
  account: '222222222222',
  regions: ['us-east-1'],
  roleArn: 'arn:aws:iam::222222222222:role/portal-credentials-target',
  externalId: 'portal-credentials-Webhook',
};
const settings = (credentialPolicy: NonNullable<SettingsInput['credentialPolicy']>, usagePlanIds: string[] = ['abc123']): SettingsInput => ({
  credentialPolicy: { defaultType: 'API_KEY', ...credentialPolicy },
  usagePlanIds,
  sampleApi: { enabled: false },
  driftAudit: { enabled: true },
});
/** `env` `{}`: an environment-agnostic stack. */
const synthesize = (raw: SettingsInput, env: { account?: string; region?: string } = testEnv) => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Webhook', { env });
  const webhook = PortalCredentialsWebhook.fromSettings(stack, 'Webhook', raw);
  return { stack, webhook, template: Template.fromStack(stack) };
};

describe("the webhook's places at synth", () => {
  it('refuses, naming credentialPolicy.apis, an API placed in a Region or account no target covers', () => {
    // Act + Assess
    expect(() => synthesize(settings({ apis: { a1: { region: 'us-east-1' } } }))).toThrow(
      /credentialPolicy\.apis: API a1 lives in the stack's own account, Region us-east-1, which no provisioning target covers/,
    );
    expect(() => synthesize(settings({ apis: { a1: { account: '222222222222', region: 'eu-west-1' } }, targets: [otherAccount] }))).toThrow(
      /credentialPolicy\.apis: API a1 lives in account 222222222222, Region eu-west-1/,
    );
  });

  it('refuses, naming credentialPolicy.targets, a target of another account without a role', () => {
    // Prepare
    const { roleArn: _, externalId: __, ...roleless } = otherAccount;

    // Act + Assess
    expect(() => synthesize(settings({ apis: { a1: { account: '222222222222', region: 'us-east-1' } }, targets: [roleless] }))).toThrow(
      /credentialPolicy\.targets: the provisioning target of account 222222222222 names no roleArn/,
    );
  });

  it('refuses, naming usagePlanIds, a usage plan of a place where no API lives, and accepts account/region/planId in the settings', () => {
    // Prepare
    const raw = settings({ apis: { a1: { region: 'us-east-1' } }, targets: [{ regions: ['us-east-1'] }] }, [
      'abc123',
      '123456789012/ap-south-1/def456',
    ]);

    // Act + Assess
    expect(() => parseSettings(raw)).not.toThrow();
    expect(() => parseSettings({ ...raw, usagePlanIds: ['us-east-1/def456'] })).toThrow(
      /usagePlanIds\.0: must be a usage plan id, or "account\/region\/planId"/,
    );
    expect(() => synthesize(raw)).toThrow(
      /usagePlanIds\.1: "123456789012\/ap-south-1\/def456" lives in account 123456789012, Region ap-south-1, where no API/,
    );
  });

  it('gives an environment-agnostic stack its account as a token, and still checks the places it can', () => {
    // Prepare
    const raw = settings({ apis: { a1: {}, b2: { account: '222222222222', region: 'us-east-1' } }, targets: [otherAccount] }, [
      'abc123',
      '222222222222/us-east-1/def456',
    ]);

    // Act
    const { template } = synthesize(raw, {});

    // Assess: CloudFormation resolves the account; the other account's plan is its role's to allow.
    const variables = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (fn) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    );
    expect(variables.filter((v) => v.REGISTRY_TABLE_NAME !== undefined).map((v) => v.DEPLOYMENT_ACCOUNT_ID)).toContainEqual({
      Ref: 'AWS::AccountId',
    });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('def456');
    expect(() => synthesize(settings({ apis: { a1: { region: 'us-east-1' } } }), {})).toThrow(
      /Region us-east-1, which no provisioning target covers/,
    );
  });
});
