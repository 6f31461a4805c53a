import { describe, expect, it } from 'vitest';
import { main, parseCommandLine } from '../../../tools/audit.ts';

const table = ['--table', 'registry'];
/** What a deployed function's environment holds: the stack sets USAGE_PLAN_IDS, never CREDENTIAL_POLICY. */
const deployed = { USAGE_PLAN_IDS: 'plan1, plan2' };

const parsed = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const command = parseCommandLine([...table, ...args], env);
  if (command === 'help') throw new Error('expected a command');
  return command;
};

describe('npm run audit: the usage plans the deployment links keys to', () => {
  it('defaults to USAGE_PLAN_IDS, as the stack sets it for the functions', () => {
    expect(parsed([], deployed).target.apiKeys).toEqual({ deploymentId: 'PortalCredentialsWebhook', linkableUsagePlanIds: ['plan1', 'plan2'] });
  });

  it("falls back to CREDENTIAL_POLICY's usagePlanIds, and --usage-plans overrides both", () => {
    const policy = { CREDENTIAL_POLICY: JSON.stringify({ usagePlanIds: ['plan3'] }) };
    expect(parsed([], policy).target.apiKeys).toEqual({ deploymentId: 'PortalCredentialsWebhook', linkableUsagePlanIds: ['plan3'] });
    expect(parsed(['--usage-plans', 'plan4'], { ...deployed, ...policy }).target.apiKeys).toEqual({
      deploymentId: 'PortalCredentialsWebhook',
      linkableUsagePlanIds: ['plan4'],
    });
  });

  it('reads every plan when none is known, but refuses to apply repairs then: they could unlink keys from plans made by hand', async () => {
    // Prepare
    let stderr = '';
    const output = { stdout: () => undefined, stderr: (text: string) => void (stderr += text) };

    // Act
    const report = parsed(['--repair']);
    const exitCode = await main([...table, '--repair', '--apply'], {}, { output });

    // Assess
    expect(report.target.apiKeys).toEqual({ deploymentId: 'PortalCredentialsWebhook' });
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/--repair --apply needs the usage plans the deployment links keys to/);
  });

  it('applies repairs with the plans known, or with an empty list for a deployment that issues no API keys', () => {
    expect(parsed(['--repair', '--apply'], deployed)).toMatchObject({
      apply: true,
      target: { apiKeys: { linkableUsagePlanIds: ['plan1', 'plan2'] } },
    });
    expect(parsed(['--repair', '--apply', '--usage-plans', ''])).toMatchObject({ apply: true, target: { apiKeys: { linkableUsagePlanIds: [] } } });
  });
});

describe('npm run audit: the deployment whose API keys it audits', () => {
  it("defaults to the stack's default name, takes DEPLOYMENT_ID, and --deployment-id overrides it", () => {
    expect(parsed([]).target.apiKeys?.deploymentId).toBe('PortalCredentialsWebhook');
    expect(parsed([], { DEPLOYMENT_ID: 'PortalStaging' }).target.apiKeys?.deploymentId).toBe('PortalStaging');
    expect(parsed(['--deployment-id', 'PortalProduction'], { DEPLOYMENT_ID: 'PortalStaging' }).target.apiKeys?.deploymentId).toBe('PortalProduction');
  });

  it('refuses an id that is no stack name', () => {
    expect(() => parsed(['--deployment-id', 'staging stack'])).toThrow(/--deployment-id "staging stack" is not a stack name/);
  });
});
