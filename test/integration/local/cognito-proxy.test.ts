/**
 * The proxy in front of cognito-local, driven with the real SDK client: the app-client rules
 * Cognito enforces and cognito-local does not, and fault injection.
 */
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InternalErrorException,
  InvalidParameterException,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, describe, expect, it } from 'vitest';
import { startCognitoLocal } from '../../../local/stand-ins/cognito-local.ts';
import { startCognitoProxy } from '../../../local/stand-ins/cognito-proxy.ts';

const cognitoLocal = await startCognitoLocal();
const proxy = await startCognitoProxy(cognitoLocal.url);
const cognito = new CognitoIdentityProviderClient({
  endpoint: proxy.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  maxAttempts: 1,
});
const { UserPool } = await cognito.send(new CreateUserPoolCommand({ PoolName: 'proxy-test' }));
const UserPoolId = UserPool?.Id as string;
afterAll(async () => {
  cognito.destroy();
  await proxy.close();
  await cognitoLocal.close();
});

const createClient = (ClientName: string, AllowedOAuthScopes: string[] = []) =>
  cognito.send(new CreateUserPoolClientCommand({ UserPoolId, ClientName, AllowedOAuthScopes }));

describe('the Cognito proxy', () => {
  it("refuses app-client names over 128 characters or outside Cognito's pattern with InvalidParameterException", async () => {
    // Act
    const tooLong = await createClient('n'.repeat(129)).catch((e: unknown) => e);
    const badCharacter = await createClient('portal/app').catch((e: unknown) => e);
    const longest = await createClient('n'.repeat(128));

    // Assess
    expect(tooLong).toBeInstanceOf(InvalidParameterException);
    expect(badCharacter).toBeInstanceOf(InvalidParameterException);
    expect(longest.UserPoolClient?.ClientName).toHaveLength(128);
  });

  it('refuses more than 50 OAuth scopes on one app client', async () => {
    // Prepare
    const scopes = Array.from({ length: 51 }, (_, index) => `api/s${index}`);

    // Act
    const refused = await createClient('too-many-scopes', scopes).catch((e: unknown) => e);

    // Assess
    expect(refused).toBeInstanceOf(InvalidParameterException);
  });

  it('injects faults per operation, counting every call', async () => {
    // Prepare
    const before = proxy.calls().CreateUserPoolClient ?? 0;
    proxy.injectFault('CreateUserPoolClient', { kind: 'error', status: 500, errorType: 'InternalErrorException' });

    // Act
    const failed = await createClient('faulty').catch((e: unknown) => e);
    const created = await createClient('faulty');

    // Assess
    expect(failed).toBeInstanceOf(InternalErrorException);
    expect(created.UserPoolClient?.ClientName).toBe('faulty');
    expect((proxy.calls().CreateUserPoolClient ?? 0) - before).toBe(2);
  });
});
