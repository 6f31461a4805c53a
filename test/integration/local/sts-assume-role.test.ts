/**
 * STS AssumeRole on the control-plane stand-in, driven with the real STS client and with
 * `fromTemporaryCredentials`, as the webhook reaches another account's role.
 */
import { APIGatewayClient, CreateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { AssumeRoleCommand, type AssumeRoleCommandInput, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PLACE, startAwsControlPlane } from '../../../local/stand-ins/aws-control-plane.ts';

const PARTNER_ROLE = 'arn:aws:iam::222222222222:role/portal-credentials-provisioner';
const OPEN_ROLE = 'arn:aws:iam::333333333333:role/path/no-external-id';
const NARROW_ROLE = 'arn:aws:iam::444444444444:role/trusts-another-account';
const LONG_ROLE = 'arn:aws:iam::222222222222:role/twelve-hours';
const EXTERNAL_ID = 'portal-external-id';

const controlPlane = await startAwsControlPlane({
  roles: [
    { roleArn: PARTNER_ROLE, externalId: EXTERNAL_ID },
    { roleArn: OPEN_ROLE },
    { roleArn: NARROW_ROLE, trustedAccounts: ['555555555555'] },
    { roleArn: LONG_ROLE, maxSessionDuration: 43_200 },
  ],
});
const local: AwsCredentialIdentity = { accessKeyId: 'local', secretAccessKey: 'local' };
const clients: { destroy(): void }[] = [];
afterAll(async () => {
  for (const client of clients) client.destroy();
  await controlPlane.close();
});
beforeEach(() => controlPlane.reset());

const stsWith = (credentials: AwsCredentialIdentity) => {
  const client = new STSClient({ endpoint: controlPlane.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
};
const sts = stsWith(local);

const assume = (input: Partial<AssumeRoleCommandInput>, client = sts) =>
  client.send(new AssumeRoleCommand({ RoleArn: PARTNER_ROLE, RoleSessionName: 'local-deployment', ExternalId: EXTERNAL_ID, ...input }));
const failureOf = (attempt: Promise<unknown>) => attempt.then(() => undefined).catch((error: Error) => error);
const credentialsOf = async (answer: ReturnType<typeof assume>): Promise<AwsCredentialIdentity> => {
  const { Credentials } = await answer;
  return {
    accessKeyId: Credentials?.AccessKeyId ?? '',
    secretAccessKey: Credentials?.SecretAccessKey ?? '',
    sessionToken: Credentials?.SessionToken,
  };
};

describe('STS AssumeRole on the stand-in', () => {
  it("hands out an hour's temporary credentials of the role for the external id its trust policy requires", async () => {
    // Prepare
    const before = Date.now();

    // Act
    const answer = await assume({});

    // Assess
    expect(answer.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(answer.Credentials?.SecretAccessKey).toHaveLength(40);
    expect(answer.Credentials?.SessionToken).toBeTruthy();
    const lifetime = (answer.Credentials?.Expiration?.getTime() ?? 0) - before;
    expect(lifetime).toBeGreaterThan(3_598_000);
    expect(lifetime).toBeLessThanOrEqual(3_600_000);
    expect(answer.AssumedRoleUser).toMatchObject({
      Arn: 'arn:aws:sts::222222222222:assumed-role/portal-credentials-provisioner/local-deployment',
      AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:local-deployment$/),
    });
  });

  it("answers GetCallerIdentity for an issued key with the assumed role's ARN and account, without a path in the ARN", async () => {
    // Prepare
    const session = stsWith(await credentialsOf(assume({ RoleArn: OPEN_ROLE, ExternalId: undefined })));

    // Act
    const identity = await session.send(new GetCallerIdentityCommand({}));

    // Assess
    expect(identity).toMatchObject({ Account: '333333333333', Arn: 'arn:aws:sts::333333333333:assumed-role/no-external-id/local-deployment' });
  });

  it('refuses an unknown role with AccessDenied (403) naming the caller and the role', async () => {
    // Act
    const refusal = await failureOf(assume({ RoleArn: 'arn:aws:iam::222222222222:role/nobody-made-this' }));

    // Assess
    expect(refusal).toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
      message:
        'User: arn:aws:iam::000000000000:user/local-operator is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/nobody-made-this',
    });
  });

  it('refuses a wrong external id and a missing one with AccessDenied, and accepts any for a role that requires none', async () => {
    // Act
    const wrong = await failureOf(assume({ ExternalId: 'someone-elses-id' }));
    const missing = await failureOf(assume({ ExternalId: undefined }));
    const notRequired = await assume({ RoleArn: OPEN_ROLE, ExternalId: 'anything-at-all' });

    // Assess
    expect(wrong).toMatchObject({ name: 'AccessDenied' });
    expect(missing).toMatchObject({ name: 'AccessDenied' });
    expect(notRequired.AssumedRoleUser?.Arn).toContain(':assumed-role/no-external-id/');
  });

  it('refuses a caller whose account the trust policy does not name', async () => {
    // Act
    const refusal = await failureOf(assume({ RoleArn: NARROW_ROLE, ExternalId: undefined }));

    // Assess
    expect(refusal).toMatchObject({ name: 'AccessDenied' });
  });

  it('refuses a session name outside 2-64 characters of [\\w+=,.@-] with ValidationError, as the STS model constrains it', async () => {
    // Act
    const [tooShort, withSlash, tooLong] = await Promise.all(
      ['a', 'deployment/local', 's'.repeat(65)].map((RoleSessionName) => failureOf(assume({ RoleSessionName }))),
    );

    // Assess
    expect(tooShort).toMatchObject({
      name: 'ValidationError',
      $metadata: { httpStatusCode: 400 },
      message:
        "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    });
    expect(withSlash).toMatchObject({
      message:
        "1 validation error detected: Value 'deployment/local' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    });
    expect(tooLong).toMatchObject({ message: expect.stringContaining('Member must have length less than or equal to 64') });
    expect(controlPlane.calls()).toEqual({ AssumeRole: 3 });
  });

  it("refuses DurationSeconds outside 900-43200 and above the role's maximum session (one hour unless the role says more)", async () => {
    // Act
    const tooShort = await failureOf(assume({ DurationSeconds: 899 }));
    const beyondModel = await failureOf(assume({ RoleArn: LONG_ROLE, ExternalId: undefined, DurationSeconds: 43_201 }));
    const beyondRole = await failureOf(assume({ DurationSeconds: 7200 }));
    const withinLongRole = await assume({ RoleArn: LONG_ROLE, ExternalId: undefined, DurationSeconds: 43_200 });

    // Assess
    expect(tooShort).toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('Member must have value greater than or equal to 900'),
    });
    expect(beyondModel).toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('Member must have value less than or equal to 43200'),
    });
    expect(beyondRole).toMatchObject({
      name: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    });
    expect((withinLongRole.Credentials?.Expiration?.getTime() ?? 0) - Date.now()).toBeGreaterThan(43_000_000);
  });

  it("refuses more than an hour to a caller using a role session's credentials (role chaining)", async () => {
    // Prepare
    const chained = stsWith(await credentialsOf(assume({})));

    // Act
    const refusal = await failureOf(assume({ RoleArn: LONG_ROLE, ExternalId: undefined, DurationSeconds: 7200 }, chained));

    // Assess
    expect(refusal).toMatchObject({ name: 'ValidationError', message: expect.stringContaining('role chaining') });
  });

  it('counts AssumeRole calls per role, refused ones included, and zeroes them on reset', async () => {
    // Prepare
    await assume({});
    await failureOf(assume({ ExternalId: 'wrong-id' }));

    // Act
    const counted = controlPlane.assumedRoleCalls(PARTNER_ROLE);
    controlPlane.reset();

    // Assess
    expect(counted).toBe(2);
    expect(controlPlane.assumedRoleCalls(PARTNER_ROLE)).toBe(0);
    expect(controlPlane.assumedRoleCalls(OPEN_ROLE)).toBe(0);
  });

  it('refuses at start a role that is not an IAM role ARN', async () => {
    // Act
    const start = startAwsControlPlane({ roles: [{ roleArn: 'arn:aws:iam::222222222222:user/not-a-role' }] });

    // Assess
    await expect(start).rejects.toThrow(/not an IAM role ARN/);
  });
});

describe('fromTemporaryCredentials against the stand-in', () => {
  it("lets an API Gateway client in eu-west-1 create keys in the role's account, assuming the role once for two calls", async () => {
    // Prepare
    const apiGateway = new APIGatewayClient({
      endpoint: controlPlane.url,
      region: 'eu-west-1',
      maxAttempts: 1,
      credentials: fromTemporaryCredentials({
        masterCredentials: local,
        params: { RoleArn: PARTNER_ROLE, ExternalId: EXTERNAL_ID, RoleSessionName: 'local-deployment' },
        clientConfig: { endpoint: controlPlane.url, region: 'eu-west-1', maxAttempts: 1 },
      }),
    });
    clients.push(apiGateway);

    // Act
    const first = await apiGateway.send(new CreateApiKeyCommand({ name: 'partner-first', enabled: true }));
    const second = await apiGateway.send(new CreateApiKeyCommand({ name: 'partner-second', enabled: true }));

    // Assess
    expect(controlPlane.apiKeys('222222222222/eu-west-1').map((key) => key.id)).toEqual([first.id, second.id]);
    expect(controlPlane.apiKeys(DEFAULT_PLACE)).toEqual([]);
    expect(controlPlane.apiKeys('000000000000/eu-west-1')).toEqual([]);
    expect(controlPlane.assumedRoleCalls(PARTNER_ROLE)).toBe(1);
    expect(controlPlane.calls('222222222222/eu-west-1')).toEqual({ CreateApiKey: 2 });
  });

  it('reaches the stand-in through AWS_ENDPOINT_URL_STS when the STS client is given no endpoint, as the local webhook may configure it', async () => {
    // Prepare
    const before = process.env.AWS_ENDPOINT_URL_STS;
    process.env.AWS_ENDPOINT_URL_STS = controlPlane.url;
    const credentials = fromTemporaryCredentials({
      masterCredentials: local,
      params: { RoleArn: PARTNER_ROLE, ExternalId: EXTERNAL_ID, RoleSessionName: 'local-deployment' },
      clientConfig: { region: 'eu-west-1', maxAttempts: 1 },
    });

    // Act
    const resolved = await credentials().finally(() => {
      if (before === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
      else process.env.AWS_ENDPOINT_URL_STS = before;
    });

    // Assess
    expect(resolved.accessKeyId).toMatch(/^ASIA/);
    expect(controlPlane.assumedRoleCalls(PARTNER_ROLE)).toBe(1);
  });
});
