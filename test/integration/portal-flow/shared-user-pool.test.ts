import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  ListUserPoolClientsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ClientCredentialsProvisioner } from '#provisioning/client-credentials-provisioner';
import { resourceName } from '#provisioning/provisioner';
import { findDrift } from '../../../lambda/audit/drift.ts';
import { readInventory } from '../../../lambda/audit/inventory.ts';
import { startCognitoLocal } from '../../../local/stand-ins/cognito-local.ts';
import { startRegistryDatabase } from '../../helpers/registry.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = process.env.LOG_LEVEL ?? 'SILENT';
});

// Two stacks (staging and production, say) that import one user pool, each with an app of the same slug.
const cognitoLocal = await startCognitoLocal();
const database = await startRegistryDatabase();
const cognito = new CognitoIdentityProviderClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  endpoint: cognitoLocal.url,
});
afterAll(async () => {
  cognito.destroy();
  await Promise.all([cognitoLocal.close(), database.close()]);
});

const newPool = async () => (await cognito.send(new CreateUserPoolCommand({ PoolName: `shared-${randomUUID()}` }))).UserPool?.Id as string;
const provisionerOf = (userPoolId: string, deploymentId: string) =>
  new ClientCredentialsProvisioner(cognito, {
    userPoolId,
    tokenUrl: 'https://auth.example.com/oauth2/token',
    accessTokenValidityMinutes: 60,
    deploymentId,
  });
const clientIds = async (UserPoolId: string) =>
  ((await cognito.send(new ListUserPoolClientsCommand({ UserPoolId, MaxResults: 60 }))).UserPoolClients ?? []).map((client) => client.ClientId);
const app = { appKey: 'shared-app', appSlug: 'shared-app', appName: 'Shared', developer: 'dev@example.com' };
const grant = { apiIds: ['payments'], usagePlanIds: [], scopes: [] };

describe('two deployments sharing one user pool', () => {
  it("never take each other's app clients for their own: a crashed create's clean-up leaves the other's client", async () => {
    // Prepare
    const userPoolId = await newPool();
    const staging = provisionerOf(userPoolId, 'PortalStaging');
    const production = provisionerOf(userPoolId, 'PortalProduction');
    const live = await production.create(app, grant);

    // Act: staging cleans up what a crashed create of the same app may have left
    const removed = await staging.removeLeftovers(app);

    // Assess
    expect(removed).toBe(0);
    expect(await clientIds(userPoolId)).toEqual([live.credentialId]);
    expect(await staging.whereabouts(live.credentialId)).toEqual({ ours: false, appKey: 'shared-app' });
    expect(await production.whereabouts(live.credentialId)).toEqual({ ours: true, appKey: 'shared-app' });
  });

  it("list the other deployment's app clients as foreign in the audit, never as orphans to delete", async () => {
    // Prepare
    const userPoolId = await newPool();
    const live = await provisionerOf(userPoolId, 'PortalProduction').create(app, grant);

    // Act: staging's audit, whose registry holds no record of it
    const inventory = await readInventory({
      registry: await database.newRegistry(),
      appClients: { client: cognito, userPoolId, deploymentId: 'PortalStaging' },
    });

    // Assess
    expect(inventory.foreign.map((credential) => credential.credentialId)).toEqual([live.credentialId]);
    expect(findDrift(inventory, false).drift).toEqual([]);
  });

  it('count a client named before names carried a deployment mark as either deployment’s, as untagged API keys are', async () => {
    // Prepare
    const userPoolId = await newPool();
    const { UserPoolClient } = await cognito.send(new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: resourceName(app) }));

    // Act
    const removed = await provisionerOf(userPoolId, 'PortalStaging').removeLeftovers(app);

    // Assess
    expect(UserPoolClient?.ClientName).toBe('portal-shared-app');
    expect(removed).toBe(1);
  });
});
