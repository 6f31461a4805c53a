import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { PortalCredentialsTargetRole, type PortalCredentialsTargetRoleProps } from '../../../infra/index.ts';
import { buildStack, nagFindings } from '../../helpers/webhook-stack.ts';

// Synthesizes a whole stack: seconds on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

/** The section of docs/platform-teams.md the example lives in, up to the next heading of its level. */
const section = (() => {
  const text = readFileSync(new URL('../../../docs/platform-teams.md', import.meta.url), 'utf8');
  const start = text.indexOf('### APIs in several Regions and accounts');
  return text.slice(start, text.indexOf('\n### ', start + 1));
})();
const block = (language: string) => new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(section)?.[1] ?? '';

/** The settings as documented. */
const documentedSettings = JSON.parse(block('json')) as {
  credentialPolicy: { targets: { account?: string; regions: string[]; roleArn?: string; externalId?: string }[] };
  usagePlanIds: string[];
};
/** A JavaScript object literal of the docs, evaluated (the repository's own text, plain literals only). */
const literal = (source: string) => new Function(`return (${source});`)() as unknown;
/** The target role's props as documented: the object literal passed to PortalCredentialsTargetRole. */
const documentedTargetRole = literal(
  /new PortalCredentialsTargetRole\(stack, 'Target', (\{[\s\S]*?\})\);/.exec(block('ts'))?.[1] ?? '',
) as PortalCredentialsTargetRoleProps;
/** The README's brief version: the settings fragment of its block that names `targets`. */
const readmeSettings = (() => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const fragment = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '').find((code) => code.includes('targets:'));
  return literal(`{ ${fragment} }`) as typeof documentedSettings;
})();
const webhookPlace = { account: '111111111111', region: 'eu-west-1' };

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };
/** A role's statements, each resource as text with the partition as `aws`. */
const statementsOfRole = (template: Template, roleLogicalIdPrefix: string) =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref.startsWith(roleLogicalIdPrefix)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
    .map((statement) => ({
      ...statement,
      Resource: [statement.Resource].flat().map((resource) => {
        if (typeof resource === 'string') return resource;
        const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
        return join ? join[1].map((part) => (typeof part === 'string' ? part : 'aws')).join('') : JSON.stringify(resource);
      }),
    }));
const resourcesOf = (statements: Statement[], action: string) =>
  statements.filter((statement) => [statement.Action].flat().includes(action)).flatMap((statement) => statement.Resource as string[]);

describe('the two-Region, two-account example of docs/platform-teams.md', () => {
  it("synthesizes as documented, cdk-nag clean, its functions' roles reaching both Regions of their account and the other account's role", () => {
    // Act
    const { stack } = buildStack({ bundle: false, env: webhookPlace, change: () => structuredClone(documentedSettings) });
    const template = Template.fromStack(stack);

    // Assess
    expect(nagFindings(stack)).toEqual([]);
    const otherAccount = documentedSettings.credentialPolicy.targets.find((target) => target.account !== undefined);
    for (const role of ['WebhookCreateCredentialsRole', 'WebhookUpdateCredentialsRole', 'WebhookRevokeCredentialsRole', 'WebhookDriftAuditRole']) {
      const statements = statementsOfRole(template, role);
      const gets = resourcesOf(statements, 'apigateway:GET');
      for (const region of ['eu-west-1', 'us-east-1']) expect(gets, role).toContain(`arn:aws:apigateway:${region}::/apikeys`);
      expect(resourcesOf(statements, 'sts:AssumeRole'), role).toEqual([otherAccount?.roleArn]);
    }
    const create = statementsOfRole(template, 'WebhookCreateCredentialsRole');
    expect(resourcesOf(create, 'apigateway:POST')).toEqual(
      expect.arrayContaining([
        'arn:aws:apigateway:eu-west-1::/apikeys',
        'arn:aws:apigateway:us-east-1::/apikeys',
        'arn:aws:apigateway:eu-west-1::/usageplans/abc123/keys',
        'arn:aws:apigateway:us-east-1::/usageplans/def456/keys',
      ]),
    );
    // The other account's plans are its role's to allow, not the webhook's.
    expect(JSON.stringify(create)).not.toMatch(/ghi789|jkl012/);
    const health = statementsOfRole(template, 'WebhookHealthRole');
    expect(resourcesOf(health, 'sts:AssumeRole')).toEqual([]);
    // What `portal-credentials audit --stack` reads to reach the same places.
    const outputs = template.toJSON().Outputs;
    expect(JSON.parse(outputs.ProvisioningTargets.Value)).toEqual(documentedSettings.credentialPolicy.targets);
    expect(outputs.DeploymentAccountId.Value).toBe(webhookPlace.account);
  });

  it('shows in the README a brief version of it that synthesizes too, its targets the documented ones', () => {
    // Act
    const { stack } = buildStack({ bundle: false, env: webhookPlace, change: () => structuredClone(readmeSettings) as never });

    // Assess
    expect(nagFindings(stack)).toEqual([]);
    expect(readmeSettings.credentialPolicy.targets).toEqual(documentedSettings.credentialPolicy.targets);
  });

  it('documents a target role that is the one the settings name, and it synthesizes cdk-nag clean', () => {
    // Prepare
    const target = documentedSettings.credentialPolicy.targets.find((candidate) => candidate.account !== undefined);
    const stack = new Stack(new App(), 'PortalCredentialsTarget', { env: { account: target?.account ?? '', region: 'eu-west-1' } });

    // Act
    new PortalCredentialsTargetRole(stack, 'Target', documentedTargetRole);

    // Assess
    expect(nagFindings(stack)).toEqual([]);
    expect(documentedTargetRole.webhookAccount).toBe(webhookPlace.account);
    expect(target?.roleArn).toBe(`arn:aws:iam::${target?.account}:role/${documentedTargetRole.roleName}`);
    expect(documentedTargetRole.externalId).toBe(target?.externalId);
    expect(documentedTargetRole.regions).toEqual(target?.regions);
    expect(documentedTargetRole.usagePlanIds).toEqual(documentedSettings.usagePlanIds.filter((id) => id.startsWith(`${target?.account}/`)));
  });
});
