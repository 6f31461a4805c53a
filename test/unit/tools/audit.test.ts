import { describe, expect, it } from 'vitest';
import { main, parseCommandLine } from '../../../tools/audit.ts';

const table = ['--table', 'registry'];
/** What a deployed function's environment holds: the stack sets USAGE_PLAN_IDS, never CREDENTIAL_POLICY. */
const deployed = { USAGE_PLAN_IDS: 'plan1, plan2' };
/** The webhook's own place when neither the stack, the environment nor a flag names one: the functions' defaults. */
const defaultHome = { account: '000000000000', region: 'us-east-1' };

const parsed = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const command = parseCommandLine([...table, ...args], env);
  if (command === 'help') throw new Error('expected a command');
  return command;
};

describe('npm run audit: the usage plans the deployment links keys to', () => {
  it('defaults to USAGE_PLAN_IDS, as the stack sets it for the functions', () => {
    expect(parsed([], deployed).target.apiKeys).toEqual({
      home: defaultHome,
      deploymentId: 'PortalCredentialsWebhook',
      linkableUsagePlanIds: ['plan1', 'plan2'],
    });
  });

  it("falls back to CREDENTIAL_POLICY's usagePlanIds, and --usage-plans overrides both", () => {
    const policy = { CREDENTIAL_POLICY: JSON.stringify({ usagePlanIds: ['plan3'] }) };
    expect(parsed([], policy).target.apiKeys).toEqual({
      home: defaultHome,
      deploymentId: 'PortalCredentialsWebhook',
      linkableUsagePlanIds: ['plan3'],
    });
    expect(parsed(['--usage-plans', 'plan4'], { ...deployed, ...policy }).target.apiKeys).toEqual({
      home: defaultHome,
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
    expect(report.target.apiKeys).toEqual({ home: defaultHome, deploymentId: 'PortalCredentialsWebhook' });
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/--repair --apply needs the usage plans the deployment links keys to/);
  });

  it('applies repairs with the plans known, or with an empty list for a deployment that issues no API keys', () => {
    expect(parsed(['--repair', '--apply', '--no-history'], deployed)).toMatchObject({
      apply: true,
      target: { apiKeys: { linkableUsagePlanIds: ['plan1', 'plan2'] } },
    });
    expect(parsed(['--repair', '--apply', '--no-history', '--usage-plans', ''])).toMatchObject({
      apply: true,
      target: { apiKeys: { linkableUsagePlanIds: [] } },
    });
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

/** A stack's outputs as DescribeStacks gives them (infra/portal-credentials-webhook-stack.ts). */
const stackOutputs = {
  DeploymentId: 'PortalStaging',
  RegistryTableName: 'staging-registry',
  HistoryTableName: 'staging-history',
  HistoryRetentionDays: '90',
  ClaimLeaseSeconds: '20',
  UsagePlanIds: 'planA,planB',
  UserPoolId: 'us-east-1_Staging01',
  AccessTokenValidityMinutes: '15',
};

describe('portal-credentials audit --stack: the deployment from its outputs', () => {
  it('takes every value from the outputs, so nothing is copied by hand', () => {
    // Act
    const command = parseCommandLine(['--repair', '--apply'], {}, stackOutputs);

    // Assess
    expect(command).toMatchObject({
      history: { tableName: 'staging-history', retentionDays: 90 },
      target: {
        registryTableName: 'staging-registry',
        apiKeys: { deploymentId: 'PortalStaging', linkableUsagePlanIds: ['planA', 'planB'] },
        appClients: { userPoolId: 'us-east-1_Staging01', accessTokenValidityMinutes: 15 },
        leaseMs: 20_000,
      },
    });
  });

  it('lets a flag override an output, and an output override the environment', () => {
    // Act
    const command = parseCommandLine(
      ['--registry-table', 'other-registry', '--deployment-id', 'PortalOther', '--history-retention-days', '30', '--repair', '--apply'],
      { REGISTRY_TABLE_NAME: 'env-registry', HISTORY_TABLE_NAME: 'env-history', HISTORY_RETENTION_DAYS: '7' },
      stackOutputs,
    );

    // Assess
    expect(command).toMatchObject({
      history: { tableName: 'staging-history', retentionDays: 30 },
      target: { registryTableName: 'other-registry', apiKeys: { deploymentId: 'PortalOther' } },
    });
  });
});

describe('portal-credentials audit --repair --apply: every repair is recorded in the history', () => {
  it('refuses to apply without a history table, saying why and how to acknowledge it', () => {
    expect(() => parsed(['--repair', '--apply'], deployed)).toThrow(
      "--repair --apply records every repair in the deployment's history: give --stack or --history-table (or set HISTORY_TABLE_NAME), or --no-history to repair without a record",
    );
  });

  it('records nothing only when --no-history says so, and refuses it together with a history table', () => {
    expect(parsed(['--repair', '--apply', '--no-history'], { ...deployed, HISTORY_TABLE_NAME: 'history' }).history).toBeUndefined();
    expect(() => parsed(['--repair', '--apply', '--no-history', '--history-table', 'history'], deployed)).toThrow(/contradict/);
  });

  it('keeps entries as long as the deployment does, never a CLI default: refused when neither the stack nor a flag says how long', () => {
    expect(() => parsed(['--repair', '--apply', '--history-table', 'history'], deployed)).toThrow(
      /--repair --apply keeps history entries as long as the deployment does: give --stack or --history-retention-days/,
    );
    expect(parsed(['--repair', '--apply', '--history-table', 'history'], { ...deployed, HISTORY_RETENTION_DAYS: '30' }).history).toEqual({
      tableName: 'history',
      retentionDays: 30,
    });
  });

  it('needs no history for a report or a dry run', () => {
    expect(parsed(['--repair'], deployed).history).toBeUndefined();
  });
});

describe('npm run audit: the places beyond the deployment’s own', () => {
  const targets = [
    { regions: ['eu-west-1'] },
    { account: '222222222222', regions: ['us-west-2'], roleArn: 'arn:aws:iam::222222222222:role/portal-target', externalId: 'portal-ext' },
  ];

  it('takes the provisioning targets from CREDENTIAL_POLICY, as the functions do, and --targets and --account override', () => {
    // Prepare
    const env = { AWS_REGION: 'eu-central-1', DEPLOYMENT_ACCOUNT_ID: '111111111111', CREDENTIAL_POLICY: JSON.stringify({ targets }) };

    // Act
    const fromPolicy = parsed([], env).target.apiKeys;
    const fromFlags = parsed(['--targets', JSON.stringify([targets[0]]), '--account', '333333333333'], env).target.apiKeys;

    // Assess
    expect(fromPolicy).toMatchObject({ home: { account: '111111111111', region: 'eu-central-1' }, targets });
    expect(fromFlags).toMatchObject({ home: { account: '333333333333', region: 'eu-central-1' }, targets: [targets[0]] });
  });

  it('reads the targets and the account from the stack outputs', () => {
    // Act
    const command = parseCommandLine(
      ['--region', 'eu-central-1'],
      {},
      {
        RegistryTableName: 'registry',
        ProvisioningTargets: JSON.stringify(targets),
        DeploymentAccountId: '111111111111',
      },
    );

    // Assess
    expect(command).toMatchObject({ target: { apiKeys: { home: { account: '111111111111', region: 'eu-central-1' }, targets } } });
  });

  it('refuses targets the functions would refuse, and targets without a Region to call home', () => {
    const noRole = JSON.stringify([{ account: '222222222222', regions: ['us-west-2'] }]);
    expect(() => parsed(['--targets', noRole, '--region', 'eu-central-1'])).toThrow(/names no roleArn/);
    expect(() => parsed(['--targets', '[{"regions":[]}]', '--region', 'eu-central-1'])).toThrow(/targets are not valid/);
    expect(() => parsed(['--targets', JSON.stringify(targets)])).toThrow(/--region is required/);
    expect(() => parsed(['--account', '12345'])).toThrow(/not a 12-digit AWS account id/);
  });
});
