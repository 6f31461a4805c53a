import { readFileSync } from 'node:fs';
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  DescribeUserPoolClientCommand,
  UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, onTestFinished } from 'vitest';
import { functionDefaults } from '#commons/defaults';
import { appKeyTag, deploymentTag, managedByTag, managedByValue } from '#provisioning/api-key-provisioner';
import type { CredentialRecord } from '#provisioning/registry';
import { Audit, type AuditTarget } from '../../lambda/audit/audit.ts';
import type { LocalWebhook } from '../../local/local-webhook.ts';
import { main } from '../../tools/audit.ts';

const localAws = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/** Changes made to AWS behind the webhook's back, as a person with console access would. */
export const outOfBand = (webhook: LocalWebhook) => {
  const apiGateway = new APIGatewayClient({ ...localAws, endpoint: webhook.controlPlane.url });
  const cognito = new CognitoIdentityProviderClient({ ...localAws, endpoint: webhook.cognito.url });
  afterAll(() => {
    apiGateway.destroy();
    cognito.destroy();
  });
  const UserPoolId = webhook.cognito.userPoolId;
  return {
    /** A key shaped as the webhook makes them (name and tags), or any other key. */
    createKey: async (name: string, tags: Record<string, string> = {}) =>
      (await apiGateway.send(new CreateApiKeyCommand({ name, enabled: true, tags }))).id as string,
    /** Without `deploymentId`, as the webhook made keys before it tagged them with its deployment. */
    createWebhookLikeKey: async (appKey: string, deploymentId?: string) =>
      (
        await apiGateway.send(
          new CreateApiKeyCommand({
            name: `portal-${appKey}`,
            enabled: true,
            tags: { [managedByTag]: managedByValue, [appKeyTag]: appKey, ...(deploymentId ? { [deploymentTag]: deploymentId } : {}) },
          }),
        )
      ).id as string,
    deleteKey: (apiKey: string) => apiGateway.send(new DeleteApiKeyCommand({ apiKey })),
    disableKey: (apiKey: string) =>
      apiGateway.send(new UpdateApiKeyCommand({ apiKey, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] })),
    enableKey: (apiKey: string) =>
      apiGateway.send(new UpdateApiKeyCommand({ apiKey, patchOperations: [{ op: 'replace', path: '/enabled', value: 'true' }] })),
    deleteClient: (ClientId: string) => cognito.send(new DeleteUserPoolClientCommand({ UserPoolId, ClientId })),
    link: (keyId: string, usagePlanId: string) => apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: 'API_KEY' })),
    unlink: (keyId: string, usagePlanId: string) => apiGateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId, keyId })),
    createClient: async (name: string, flows: ('client_credentials' | 'code')[] = []) =>
      (
        await cognito.send(
          new CreateUserPoolClientCommand({
            UserPoolId,
            ClientName: name,
            GenerateSecret: true,
            AllowedOAuthFlows: flows,
            AllowedOAuthFlowsUserPoolClient: flows.length > 0,
          }),
        )
      ).UserPoolClient?.ClientId as string,
    setScopes: (ClientId: string, scopes: string[]) =>
      cognito.send(
        new UpdateUserPoolClientCommand({
          UserPoolId,
          ClientId,
          AllowedOAuthFlows: ['client_credentials'],
          AllowedOAuthFlowsUserPoolClient: true,
          AllowedOAuthScopes: scopes,
        }),
      ),
    scopesOf: async (ClientId: string) =>
      (await cognito.send(new DescribeUserPoolClientCommand({ UserPoolId, ClientId }))).UserPoolClient?.AllowedOAuthScopes ?? [],
    clientExists: async (ClientId: string) => {
      try {
        await cognito.send(new DescribeUserPoolClientCommand({ UserPoolId, ClientId }));
        return true;
      } catch {
        return false;
      }
    },
  };
};

/** Every usage plan the local control plane is seeded with: the ones the local deployment links keys to. */
const seededUsagePlanIds = (
  JSON.parse(readFileSync(new URL('../../local/seed.json', import.meta.url), 'utf8')) as { usagePlans: { id: string }[] }
).usagePlans.map((plan) => plan.id);

/** `npm run audit` in-process, with the local webhook's environment (its deployment id, its plans) as the stack sets it; stdout, stderr and the exit code. */
export const runAuditCommand = (webhook: LocalWebhook, ...args: string[]) => runAuditCommandWith(webhook, { userPool: true }, ...args);

/** The same, with the user pool left out (`userPool: false`) as an operator may forget it. */
export const runAuditCommandWith = async (webhook: LocalWebhook, options: { userPool: boolean }, ...args: string[]) => {
  let stdout = '';
  let stderr = '';
  const { USER_POOL_ID: _ignored, ...inherited } = process.env;
  const env = { ...inherited, DEPLOYMENT_ID: functionDefaults.deploymentId, USAGE_PLAN_IDS: seededUsagePlanIds.join(',') };
  const pool = options.userPool ? ['--user-pool-id', webhook.cognito.userPoolId] : [];
  const exitCode = await main(['--table', webhook.tableName, ...pool, ...args], env, {
    output: { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) },
    rateLimited: false,
  });
  return { exitCode, stdout, stderr, json: args.includes('--json') ? JSON.parse(stdout) : undefined };
};

/**
 * A create's claim on `appKey`, asking for plan 1el57v of the contract's example API: made two minutes ago and
 * dead a minute ago, unless told otherwise (a running create's lease ends in the future).
 */
export const pendingClaim = (
  appKey: string,
  { leaseExpiresAt = Date.now() - 60_000, claimToken = `token-${appKey}`, at = new Date(Date.now() - 120_000).toISOString() } = {},
): CredentialRecord & { claimToken: string; leaseExpiresAt: number } => ({
  ...{ appKey, appSlug: appKey, appName: appKey, developer: 'email@mycompany.com', credentialType: 'API_KEY', state: 'PENDING' },
  ...{ apiIds: ['5aba4csvd4'], usagePlanIds: ['1el57v'], scopes: [], claimToken, leaseExpiresAt, createdAt: at, updatedAt: at },
});

/** The audit of the local webhook's API keys, in-process and unpaced, destroyed when the test ends. */
export const localAudit = (webhook: LocalWebhook, target: Partial<AuditTarget> = {}) => {
  const audit = new Audit({
    registryTableName: webhook.tableName,
    apiKeys: { deploymentId: functionDefaults.deploymentId },
    leaseMs: 60_000,
    rateLimited: false,
    ...target,
  });
  onTestFinished(() => audit.destroy());
  return audit;
};
