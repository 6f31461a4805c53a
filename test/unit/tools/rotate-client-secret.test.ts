import {
  AddUserPoolClientSecretCommand,
  CognitoIdentityProviderClient,
  DeleteUserPoolClientSecretCommand,
  DescribeUserPoolClientCommand,
  ListUserPoolClientSecretsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { resourceName } from '#provisioning/provisioner';
import {
  addClientSecret,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  listClientSecrets,
  main,
  retireClientSecrets,
  RotationRefusedError,
  WEBHOOK_CLIENT_PREFIX,
} from '../../../tools/rotate-client-secret.ts';
import { awsError } from '../../helpers/aws-mocks.ts';

const cognito = mockClient(CognitoIdentityProviderClient);
const client = new CognitoIdentityProviderClient({ region: 'us-east-1' });

const userPoolId = 'us-east-1_Pool1';
const clientId = 'client1';
const ref = { userPoolId, clientId };
const wireRef = { UserPoolId: userPoolId, ClientId: clientId };
const target = ['--user-pool-id', userPoolId, '--client-id', clientId];
/** What DescribeUserPoolClient answers carries the current secret: it must never be printed either. */
const currentSecretValue = 'c'.repeat(51);
const newSecretValue = 'n'.repeat(51);
const oldId = `${clientId}--1760000000000`;
const newId = `${clientId}--1770000000000`;
const oldSecret = { ClientSecretId: oldId, ClientSecretCreateDate: new Date('2025-10-09T08:53:20.000Z') };
const newSecret = { ClientSecretId: newId, ClientSecretCreateDate: new Date('2026-02-02T02:40:00.000Z') };

const webhookClient = (overrides: Record<string, unknown> = {}) => ({
  UserPoolClient: {
    UserPoolId: userPoolId,
    ClientId: clientId,
    ClientName: 'portal-shop',
    ClientSecret: currentSecretValue,
    AllowedOAuthFlows: ['client_credentials' as const],
    ...overrides,
  },
});

/** Runs the command with its output captured. */
async function run(...args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, {}, { stdout: (text) => stdout.push(text), stderr: (text) => stderr.push(text) });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** Every command sent, in order, as [operation, input]. */
const sent = () =>
  cognito.calls().map((call) => [(call.args[0] as object).constructor.name.replace(/Command$/, ''), (call.args[0] as { input: unknown }).input]);
const writes = () => [...cognito.commandCalls(AddUserPoolClientSecretCommand), ...cognito.commandCalls(DeleteUserPoolClientSecretCommand)];
const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe('rotate-client-secret', () => {
  beforeEach(() => {
    cognito.reset();
    cognito.on(DescribeUserPoolClientCommand).resolves(webhookClient());
    cognito.on(ListUserPoolClientSecretsCommand).resolves({ ClientSecrets: [oldSecret] });
    cognito.on(AddUserPoolClientSecretCommand).resolves({ ClientSecretDescriptor: { ...newSecret, ClientSecretValue: newSecretValue } });
    cognito.on(DeleteUserPoolClientSecretCommand).resolves({});
  });

  it('rotates with two secrets live in between: list, add, list, retire the old one, list', async () => {
    // Prepare
    cognito
      .on(ListUserPoolClientSecretsCommand)
      .resolvesOnce({ ClientSecrets: [oldSecret] }) // list
      .resolvesOnce({ ClientSecrets: [oldSecret] }) // add checks there is room
      .resolvesOnce({ ClientSecrets: [newSecret, oldSecret] }) // list
      .resolvesOnce({ ClientSecrets: [oldSecret, newSecret] }) // retire
      .resolvesOnce({ ClientSecrets: [newSecret] }); // list

    // Act
    const before = await run('list', ...target);
    const added = await run('add', ...target);
    const during = await run('list', ...target);
    const retired = await run('retire', ...target, '--keep', newId);
    const after = await run('list', ...target);

    // Assess
    expect([before, added, during, retired, after].map((step) => step.code)).toEqual([EXIT_OK, EXIT_OK, EXIT_OK, EXIT_OK, EXIT_OK]);
    expect(JSON.parse(before.stdout)).toEqual({ clientId, secrets: [{ clientSecretId: oldId, createdAt: '2025-10-09T08:53:20.000Z' }] });
    expect(JSON.parse(added.stdout)).toEqual({ clientSecretId: newId, clientSecret: newSecretValue });
    expect(added.stderr).toContain(`retire --keep ${newId}`);
    expect(JSON.parse(during.stdout).secrets).toEqual([
      { clientSecretId: oldId, createdAt: '2025-10-09T08:53:20.000Z' },
      { clientSecretId: newId, createdAt: '2026-02-02T02:40:00.000Z' },
    ]);
    expect(during.stderr).toContain('rotation is in progress');
    expect(JSON.parse(retired.stdout)).toEqual({ kept: newId, retired: [oldId] });
    expect(JSON.parse(after.stdout).secrets).toEqual([{ clientSecretId: newId, createdAt: '2026-02-02T02:40:00.000Z' }]);
    const describe = ['DescribeUserPoolClient', { UserPoolId: userPoolId, ClientId: clientId }];
    const list = ['ListUserPoolClientSecrets', { UserPoolId: userPoolId, ClientId: clientId }];
    expect(sent()).toEqual([
      describe,
      list,
      describe,
      list,
      ['AddUserPoolClientSecret', { UserPoolId: userPoolId, ClientId: clientId }],
      describe,
      list,
      describe,
      list,
      ['DeleteUserPoolClientSecret', { UserPoolId: userPoolId, ClientId: clientId, ClientSecretId: oldId }],
      describe,
      list,
    ]);
  });

  it('prints the new secret exactly once, on stdout, and never any secret on stderr', async () => {
    // Act
    const { code, stdout, stderr } = await run('add', ...target);

    // Assess
    expect(code).toBe(EXIT_OK);
    expect(occurrences(stdout, newSecretValue)).toBe(1);
    expect(stderr).not.toContain(newSecretValue);
    expect(stdout + stderr).not.toContain(currentSecretValue);
  });

  it('refuses to add a third secret and says to finish the previous rotation first', async () => {
    // Prepare
    cognito.on(ListUserPoolClientSecretsCommand).resolves({ ClientSecrets: [oldSecret, newSecret] });

    // Act
    const { code, stdout, stderr } = await run('add', ...target);

    // Assess
    expect(code).toBe(EXIT_FAILED);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^refused: .*finish the previous rotation first.*retire --keep .*newest is client1--1770000000000\)\n$/);
    expect(writes()).toHaveLength(0);
  });

  it('refuses to retire when the secret to keep is not one of the client’s, deleting nothing', async () => {
    // Prepare
    cognito.on(ListUserPoolClientSecretsCommand).resolves({ ClientSecrets: [oldSecret, newSecret] });

    // Act
    const { code, stderr } = await run('retire', ...target, '--keep', 'client1--999');

    // Assess
    expect(code).toBe(EXIT_FAILED);
    expect(stderr).toMatch(/^refused: secret client1--999 is not one of app client client1's secrets .*nothing was deleted/);
    expect(writes()).toHaveLength(0);
  });

  it('retires nothing, successfully, when the kept secret is already the only one', async () => {
    // Prepare
    cognito.on(ListUserPoolClientSecretsCommand).resolves({ ClientSecrets: [newSecret] });

    // Act
    const { code, stdout, stderr } = await run('retire', ...target, '--keep', newId);

    // Assess
    expect(code).toBe(EXIT_OK);
    expect(JSON.parse(stdout)).toEqual({ kept: newId, retired: [] });
    expect(stderr).toContain('nothing to retire');
    expect(writes()).toHaveLength(0);
  });

  it.each([
    ['list', []],
    ['add', []],
    ['retire', ['--keep', oldId]],
  ])('refuses to %s on an app client the webhook did not create, reading nothing more', async (step, extra) => {
    // Prepare
    cognito.on(DescribeUserPoolClientCommand).resolves(webhookClient({ ClientName: 'billing-backend' }));

    // Act
    const { code, stdout, stderr } = await run(step, ...target, ...extra);

    // Assess
    expect(code).toBe(EXIT_FAILED);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^refused: app client client1 is named "billing-backend", not portal-…: the webhook did not create it.*\n$/);
    expect(sent().map(([operation]) => operation)).toEqual(['DescribeUserPoolClient']);
  });

  it('refuses a portal- client that lacks the client_credentials flow', async () => {
    // Prepare
    cognito.on(DescribeUserPoolClientCommand).resolves(webhookClient({ AllowedOAuthFlows: ['code'] }));

    // Act
    const { code, stderr } = await run('add', ...target);

    // Assess
    expect(code).toBe(EXIT_FAILED);
    expect(stderr).toMatch(/^refused: .*does not have the client_credentials flow/);
    expect(writes()).toHaveLength(0);
  });

  it.each([
    {
      name: 'ResourceNotFoundException',
      operation: 'DescribeUserPoolClient',
      command: DescribeUserPoolClientCommand,
      step: ['list'],
      hint: 'check --user-pool-id, --client-id and --region',
    },
    {
      name: 'TooManyRequestsException',
      operation: 'AddUserPoolClientSecret',
      command: AddUserPoolClientSecretCommand,
      step: ['add'],
      hint: 'wait a minute and run the same step again',
    },
    {
      name: 'AccessDeniedException',
      operation: 'DeleteUserPoolClientSecret',
      command: DeleteUserPoolClientSecretCommand,
      step: ['retire', '--keep', newId],
      hint: 'allow cognito-idp:DeleteUserPoolClientSecret',
    },
  ])('turns $name from $operation into exit 1 and one line saying what to check', async ({ name, operation, command, step, hint }) => {
    // Prepare
    cognito.on(ListUserPoolClientSecretsCommand).resolves({ ClientSecrets: step[0] === 'retire' ? [oldSecret, newSecret] : [oldSecret] });
    cognito.on(command as typeof DescribeUserPoolClientCommand).rejects(awsError(name));

    // Act
    const { code, stdout, stderr } = await run(...step, ...target);

    // Assess
    expect(code).toBe(EXIT_FAILED);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^error: ${operation} failed with ${name} \\(.*\\): .*\n$`));
    expect(stderr).toContain(hint);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(stderr).not.toContain(currentSecretValue);
  });

  it.each([
    ['no step', [...target]],
    ['an unknown step', ['rotate', ...target]],
    ['two steps', ['add', 'retire', ...target]],
    ['no user pool id', ['list', '--client-id', clientId]],
    ['a malformed user pool id', ['list', '--user-pool-id', 'pool', '--client-id', clientId]],
    ['no client id', ['list', '--user-pool-id', userPoolId]],
    ['retire without --keep', ['retire', ...target]],
    ['--keep outside retire', ['add', ...target, '--keep', oldId]],
    ['an unknown option', ['list', ...target, '--force']],
  ])('exits 2 with the usage, calling nothing, given %s', async (_case, args) => {
    // Act
    const { code, stdout, stderr } = await run(...args);

    // Assess
    expect(code).toBe(EXIT_USAGE);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: .*\n\nUsage: /);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('shows the usage on --help', async () => {
    // Act
    const { code, stdout } = await run('--help');

    // Assess
    expect(code).toBe(EXIT_OK);
    expect(stdout).toMatch(/^Usage: portal-credentials rotate-client-secret <step>/);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('sends the requests to the Region given with --region', async () => {
    // Act
    await run('list', ...target, '--region', 'eu-west-1');

    // Assess
    const sender = cognito.call(0).thisValue as CognitoIdentityProviderClient;
    expect(await sender.config.region()).toBe('eu-west-1');
  });

  describe('library', () => {
    it('lists ids and dates oldest first, dropping any value Cognito might send', async () => {
      // Prepare
      cognito.on(ListUserPoolClientSecretsCommand).resolves({ ClientSecrets: [{ ...newSecret, ClientSecretValue: newSecretValue }, oldSecret] });

      // Act
      const secrets = await listClientSecrets(client, ref);

      // Assess
      expect(secrets).toEqual([
        { clientSecretId: oldId, createdAt: '2025-10-09T08:53:20.000Z' },
        { clientSecretId: newId, createdAt: '2026-02-02T02:40:00.000Z' },
      ]);
    });

    it('follows a pagination token should Cognito ever send one', async () => {
      // Prepare
      cognito
        .on(ListUserPoolClientSecretsCommand)
        .resolvesOnce({ ClientSecrets: [oldSecret], NextToken: 'page2' })
        .resolvesOnce({ ClientSecrets: [newSecret] });

      // Act
      const secrets = await listClientSecrets(client, ref);

      // Assess
      expect(secrets.map((secret) => secret.clientSecretId)).toEqual([oldId, newId]);
      expect(cognito.commandCalls(ListUserPoolClientSecretsCommand)[1]?.args[0].input).toEqual({ ...wireRef, NextToken: 'page2' });
    });

    it('adds a secret Cognito generates and returns its id and value', async () => {
      // Act
      const added = await addClientSecret(client, ref);

      // Assess
      expect(added).toEqual({ clientSecretId: newId, clientSecret: newSecretValue });
      expect(cognito.commandCalls(AddUserPoolClientSecretCommand)[0]?.args[0].input).toEqual(wireRef);
    });

    it('fails clearly when Cognito adds a secret without returning its value', async () => {
      // Prepare
      cognito.on(AddUserPoolClientSecretCommand).resolves({ ClientSecretDescriptor: newSecret });

      // Act
      const outcome = addClientSecret(client, ref);

      // Assess
      await expect(outcome).rejects.toThrow(/did not return its value: run list, then retire --keep/);
    });

    it('refuses with a RotationRefusedError, so callers can tell a refusal from a failure', async () => {
      // Prepare
      cognito.on(DescribeUserPoolClientCommand).resolves(webhookClient({ ClientName: 'shop' }));

      // Act
      const outcome = retireClientSecrets(client, ref, oldId);

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(RotationRefusedError);
    });

    it('recognises exactly the names the webhook gives its app clients', () => {
      // Act
      const name = resourceName({ appKey: 'shop', appName: 'Shop', developer: 'dev@example.com' });

      // Assess
      expect(name.startsWith(WEBHOOK_CLIENT_PREFIX)).toBe(true);
    });
  });
});
