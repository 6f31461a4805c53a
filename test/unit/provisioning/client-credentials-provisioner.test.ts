import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  DescribeUserPoolClientCommand,
  ListUserPoolClientsCommand,
  UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ClientCredentialsProvisioner } from '#provisioning/client-credentials-provisioner';
import { awsError } from '../../helpers/aws-mocks.ts';

const cognito = mockClient(CognitoIdentityProviderClient);
const settings = { userPoolId: 'us-east-1_Pool1', tokenUrl: 'https://auth.example.com/oauth2/token', accessTokenValidityMinutes: 30 };
const provisioner = new ClientCredentialsProvisioner(new CognitoIdentityProviderClient({ region: 'us-east-1' }), settings);
const app = { appKey: 'shop', appName: 'Shop', developer: 'dev@example.com' };
const grant = (...scopes: string[]) => ({ apiIds: ['pay1'], usagePlanIds: [], scopes });
const secret = 's'.repeat(51);

/** The whole configuration every write must carry, since Cognito resets whatever a write omits. */
const fullConfiguration = (scopes: string[]) => ({
  UserPoolId: 'us-east-1_Pool1',
  ClientName: 'portal-shop',
  AllowedOAuthFlows: ['client_credentials'],
  AllowedOAuthFlowsUserPoolClient: true,
  AllowedOAuthScopes: scopes,
  ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
  SupportedIdentityProviders: ['COGNITO'],
  AccessTokenValidity: 30,
  TokenValidityUnits: { AccessToken: 'minutes' },
  EnableTokenRevocation: true,
  PreventUserExistenceErrors: 'ENABLED',
});

describe('ClientCredentialsProvisioner', () => {
  beforeEach(() => {
    cognito.reset();
    cognito
      .on(CreateUserPoolClientCommand)
      .resolves({ UserPoolClient: { ClientId: 'client1', ClientSecret: secret, AllowedOAuthScopes: ['payments/read'] } });
    cognito
      .on(DescribeUserPoolClientCommand)
      .resolves({ UserPoolClient: { ClientId: 'client1', ClientName: 'portal-shop', ClientSecret: secret, AllowedOAuthScopes: ['payments/read'] } });
  });

  it('creates a machine-to-machine client with a secret and says how to fetch a token', async () => {
    // Act
    const issued = await provisioner.create(app, grant('payments/read'));

    // Assess
    expect(cognito.commandCalls(CreateUserPoolClientCommand)[0]?.args[0].input).toEqual({
      ...fullConfiguration(['payments/read']),
      // The deployment's mark: '@' and the first 8 hex digits of SHA-256('local'), the default deployment id.
      ClientName: 'portal-shop@25bf8e1a',
      GenerateSecret: true,
    });
    expect(issued).toEqual({
      credentialId: 'client1',
      secret,
      customCredentials: {
        tokenUrl: settings.tokenUrl,
        scopes: ['payments/read'],
        grantType: 'client_credentials',
        tokenEndpointAuthMethods: ['client_secret_basic', 'client_secret_post'],
      },
    });
  });

  it('sends the complete configuration when scopes change, never a partial one', async () => {
    // Act
    await provisioner.regrant({ credentialId: 'client1' }, grant('payments/read', 'refunds/write'));

    // Assess
    expect(cognito.commandCalls(UpdateUserPoolClientCommand)[0]?.args[0].input).toEqual({
      ...fullConfiguration(['payments/read', 'refunds/write']),
      ClientId: 'client1',
    });
  });

  it('makes no write when the scopes are unchanged, whatever their order', async () => {
    // Prepare
    cognito
      .on(DescribeUserPoolClientCommand)
      .resolves({ UserPoolClient: { ClientId: 'client1', ClientName: 'portal-shop', AllowedOAuthScopes: ['b/x', 'a/y'] } });

    // Act
    await provisioner.regrant({ credentialId: 'client1' }, grant('a/y', 'b/x'));

    // Assess
    expect(cognito.commandCalls(UpdateUserPoolClientCommand)).toHaveLength(0);
  });

  it('refuses with 409 to update a client deleted behind its back', async () => {
    // Prepare
    cognito.on(DescribeUserPoolClientCommand).rejects(awsError('ResourceNotFoundException'));

    // Act + Assess
    await expect(provisioner.regrant({ credentialId: 'client1' }, grant('a/y'))).rejects.toMatchObject({ statusCode: 409, code: 'CREDENTIAL_GONE' });
  });

  it('reveals the existing client with its secret, and nothing once it is deleted', async () => {
    // Act
    const found = await provisioner.reveal({ credentialId: 'client1' });
    cognito.on(DescribeUserPoolClientCommand).rejects(awsError('ResourceNotFoundException'));
    const gone = await provisioner.reveal({ credentialId: 'client1' });

    // Assess
    expect(found).toMatchObject({ credentialId: 'client1', secret });
    expect(gone).toBeUndefined();
  });

  it('revokes idempotently', async () => {
    // Prepare
    cognito.on(DeleteUserPoolClientCommand).rejects(awsError('ResourceNotFoundException'));

    // Act + Assess
    await expect(provisioner.revoke({ credentialId: 'client1' })).resolves.toBeUndefined();
  });

  it('removes as leftovers only clients with the exact name, over every page', async () => {
    // Prepare
    cognito
      .on(ListUserPoolClientsCommand)
      .resolvesOnce({
        UserPoolClients: [
          { ClientId: 'a', ClientName: 'portal-shop' },
          { ClientId: 'b', ClientName: 'portal-shopping' },
        ],
        NextToken: 'n',
      })
      .resolvesOnce({ UserPoolClients: [{ ClientId: 'c', ClientName: 'portal-shop' }] });
    cognito.on(DeleteUserPoolClientCommand).resolves({});

    // Act
    const removed = await provisioner.removeLeftovers(app);

    // Assess
    expect(removed).toBe(2);
    expect(
      cognito
        .commandCalls(DeleteUserPoolClientCommand)
        .map((c) => c.args[0].input.ClientId)
        .sort(),
    ).toEqual(['a', 'c']);
  });

  it('refuses with 422, before any write, more scopes than one app client may hold (50)', async () => {
    // Prepare
    const scopes = Array.from({ length: 51 }, (_, index) => `api${index}/read`);

    // Act
    const created = await provisioner.create(app, grant(...scopes)).catch((error) => error);
    const regranted = await provisioner.regrant({ credentialId: 'client1' }, grant(...scopes)).catch((error) => error);
    const atTheLimit = await provisioner.create(app, grant(...scopes.slice(0, 50)));

    // Assess
    expect(created).toMatchObject({ statusCode: 422, code: 'TOO_MANY_SCOPES' });
    expect(regranted).toMatchObject({ statusCode: 422, code: 'TOO_MANY_SCOPES' });
    expect(atTheLimit.credentialId).toBe('client1');
    expect(cognito.commandCalls(CreateUserPoolClientCommand)).toHaveLength(1);
    expect(cognito.commandCalls(UpdateUserPoolClientCommand)).toHaveLength(0);
  });
});
