import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  DescribeUserPoolClientCommand,
  ListUserPoolClientsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { CredentialPolicySettings } from '#commons/config';
import { WebhookError } from '#contract/errors';
import type { ApiRef, CreateCredentialsResponse, CredentialType } from '#contract/schemas';
import { ApiKeyProvisioner } from '#provisioning/api-key-provisioner';
import { ClientCredentialsProvisioner } from '#provisioning/client-credentials-provisioner';
import { CredentialPolicy } from '#provisioning/credential-policy';
import { CredentialsService } from '#provisioning/credentials-service';
import type { Registry } from '#provisioning/registry';
import { UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import { type ControlPlaneSeed, startAwsControlPlane } from '../../../local/stand-ins/aws-control-plane.ts';
import { startCognitoLocal } from '../../../local/stand-ins/cognito-local.ts';
import { Interleaver } from '../../helpers/interleaving.ts';
import { startRegistryDatabase } from '../../helpers/registry.ts';

// The service logs every step; only failures matter here (set before the logger loads).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = process.env.LOG_LEVEL ?? 'SILENT';
});

// Three APIs each served by one plan on its own stage, so that any subset is a valid request.
const seed: ControlPlaneSeed = {
  restApis: [
    { id: 'ordersapi1', name: 'Orders' },
    { id: 'stockapi01', name: 'Stock' },
    { id: 'quotesapi1', name: 'Quotes' },
  ],
  usagePlans: [
    { id: 'ord001', name: 'Orders', apiStages: [{ apiId: 'ordersapi1', stage: 'prod' }] },
    { id: 'stk001', name: 'Stock', apiStages: [{ apiId: 'stockapi01', stage: 'prod' }] },
    { id: 'quo001', name: 'Quotes', apiStages: [{ apiId: 'quotesapi1', stage: 'prod' }] },
  ],
};
const policy: CredentialPolicySettings = {
  defaultType: 'API_KEY',
  apis: {
    paymentsa1: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read'] },
    refundsa01: { type: 'CLIENT_CREDENTIALS', scopes: ['refunds/write'] },
  },
};
const keyApis: ApiRef[] = seed.usagePlans.map((plan) => ({ id: plan.apiStages[0]?.apiId as string, usagePlans: [{ id: plan.id }] }));
const clientApis: ApiRef[] = [
  { id: 'paymentsa1', usagePlans: [] },
  { id: 'refundsa01', usagePlans: [] },
];

/** The apps the operations race over: two with API keys, one with client credentials. */
const apps = [
  { appSlug: 'race-key-a', credentialType: 'API_KEY', apis: keyApis },
  { appSlug: 'race-key-b', credentialType: 'API_KEY', apis: keyApis },
  { appSlug: 'race-client', credentialType: 'CLIENT_CREDENTIALS', apis: clientApis },
] as const satisfies readonly { appSlug: string; credentialType: CredentialType; apis: ApiRef[] }[];
type App = (typeof apps)[number];

const database = await startRegistryDatabase();
const controlPlane = await startAwsControlPlane({ seed });
const cognitoLocal = await startCognitoLocal();
const localAws = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const apiGateway = new APIGatewayClient({ ...localAws, endpoint: controlPlane.url });
const cognito = new CognitoIdentityProviderClient({ ...localAws, endpoint: cognitoLocal.url });
// Reads what Cognito holds for the assertions, outside the interleaving.
const cognitoAdmin = new CognitoIdentityProviderClient({ ...localAws, endpoint: cognitoLocal.url });
afterAll(async () => {
  for (const client of [apiGateway, cognito, cognitoAdmin]) client.destroy();
  await Promise.all([database.close(), controlPlane.close(), cognitoLocal.close()]);
});

const interleaver = new Interleaver();
interleaver.attach(database.documents, 'DynamoDB');
interleaver.attach(apiGateway, 'APIGateway');
interleaver.attach(cognito, 'Cognito');

/** The production service on the stand-ins, with a short wait so a run that makes a caller wait ends soon. */
const serviceOn = (registry: Registry, userPoolId: string) => {
  const usagePlans = new UsagePlanCatalog(apiGateway);
  return new CredentialsService({
    registry,
    policy: new CredentialPolicy(policy, usagePlans),
    provisioners: [
      new ApiKeyProvisioner(apiGateway, usagePlans),
      new ClientCredentialsProvisioner(cognito, { userPoolId, tokenUrl: 'https://auth.example.com/oauth2/token', accessTokenValidityMinutes: 60 }),
    ],
    leaseMs: 60_000,
    waitMs: 1_000,
    pollMs: 5,
  });
};

const operation = fc.record({
  kind: fc.constantFrom('create', 'update', 'revoke'),
  app: fc.nat({ max: apps.length - 1 }),
  /** Which of the app's APIs the request names, as a bit mask (never none). */
  apiMask: fc.nat(),
  /** How update and revoke name the credential: by slug, by the id known before the race, or both. */
  naming: fc.constantFrom('slug', 'id', 'both'),
});
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

const apisOf = (app: App, mask: number) => {
  const chosen = (mask % (2 ** app.apis.length - 1)) + 1;
  return app.apis.filter((_, index) => chosen & (1 << index));
};
const createRequestOf = (app: App, apis: readonly ApiRef[]) => ({
  appName: `app ${app.appSlug}`,
  appSlug: app.appSlug,
  developer: 'dev@example.com',
  apis: [...apis],
});
const credentialIdOf = (answer: CreateCredentialsResponse) => (answer.credentialType === 'API_KEY' ? answer.apiKeyId : answer.clientId);

interface Answer {
  status: number;
  code?: string;
  credentialId?: string;
}

/** One operation as the portal would call it, answered in the contract's terms (a non-WebhookError is a 500). */
const perform = async (service: CredentialsService, op: Operation, knownIds: Map<number, string>): Promise<Answer> => {
  const app = apps[op.app] as App;
  const apis = apisOf(app, op.apiMask);
  const knownId = knownIds.get(op.app);
  const byId = op.naming !== 'slug' && knownId !== undefined;
  const idField = byId ? { [app.credentialType === 'API_KEY' ? 'apiKeyId' : 'clientId']: knownId } : {};
  const slugField = op.naming !== 'id' || !byId ? { appSlug: app.appSlug } : {};
  try {
    if (op.kind === 'create') return { status: 200, credentialId: credentialIdOf(await service.create(createRequestOf(app, apis))) };
    if (op.kind === 'update') {
      const { appSlug: _, ...rest } = createRequestOf(app, apis);
      await service.update({ ...rest, ...slugField, ...idField, credentialType: app.credentialType });
    } else {
      await service.revoke({ ...slugField, ...idField, credentialType: app.credentialType });
    }
    return { status: 204 };
  } catch (error) {
    if (error instanceof WebhookError) return { status: error.statusCode, code: error.code };
    return { status: 500, code: `${(error as Error).name}: ${(error as Error).message}` };
  }
};

/** What the contract lets each operation answer when nothing fails in AWS. */
const expectedAnswers: Record<Operation['kind'], number[]> = { create: [200, 409], update: [204, 404, 409], revoke: [204, 409] };
/** The 409s that mean "busy, retry": anything else (a credential gone, a grant lost) is a race the webhook lost. */
const busyCodes = ['CREATE_IN_PROGRESS', 'CHANGE_IN_PROGRESS', 'APP_STATE_CHANGING'];

const clientsIn = async (userPoolId: string) => {
  const { UserPoolClients = [] } = await cognitoAdmin.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }));
  return Promise.all(
    UserPoolClients.map(async ({ ClientId }) => {
      const { UserPoolClient } = await cognitoAdmin.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId }));
      return { id: ClientId as string, name: UserPoolClient?.ClientName, scopes: [...(UserPoolClient?.AllowedOAuthScopes ?? [])].sort() };
    }),
  );
};
const plansLinkedTo = (keyId: string) =>
  seed.usagePlans
    .filter((plan) => controlPlane.usagePlanKeyIds(plan.id).includes(keyId))
    .map((plan) => plan.id)
    .sort();

/** Registry ≡ AWS: each app holds in AWS exactly what its record says, and AWS holds nothing else. */
const expectRegistryEqualsAws = async (registry: Registry, userPoolId: string) => {
  const keys = controlPlane.apiKeys();
  const clients = await clientsIn(userPoolId);
  const accountedFor = new Set<string>();
  for (const app of apps) {
    const record = await registry.get(app.appSlug);
    const name = `portal-${app.appSlug}`;
    const held = app.credentialType === 'API_KEY' ? keys.filter((key) => key.name === name) : clients.filter((client) => client.name === name);
    expect(record?.state, `${app.appSlug} is settled`).not.toBe('PENDING');
    expect(record?.claimToken, `${app.appSlug} is not held after every call ended`).toBeUndefined();
    if (record?.state !== 'ACTIVE') {
      expect(held, `${app.appSlug} has no credential`).toEqual([]);
      continue;
    }
    expect(
      held.map((credential) => credential.id),
      `${app.appSlug} has exactly its recorded credential`,
    ).toEqual([record.credentialId]);
    accountedFor.add(record.credentialId as string);
    if (app.credentialType === 'API_KEY')
      expect(plansLinkedTo(record.credentialId as string), `${app.appSlug}'s links`).toEqual([...record.usagePlanIds].sort());
    else expect((held[0] as { scopes: string[] }).scopes, `${app.appSlug}'s scopes`).toEqual([...record.scopes].sort());
  }
  const orphans = [...keys.map((key) => key.id), ...clients.map((client) => client.id)].filter((id) => !accountedFor.has(id));
  expect(orphans, 'credentials no record owns').toEqual([]);
};

describe('concurrent create, update and revoke calls, in any interleaving of their AWS calls', () => {
  it('leave the registry equal to AWS, with no orphan, no duplicate, and only contract answers', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.subarray([0, 1, 2]),
        fc.array(operation, { minLength: 2, maxLength: 6 }),
        async (scheduler, existing, operations) => {
          // Prepare: fresh registry, control plane and user pool; some apps already hold a credential.
          const registry = await database.newRegistry();
          controlPlane.reset();
          const { UserPool } = await cognitoAdmin.send(new CreateUserPoolCommand({ PoolName: `interleavings-${++run}` }));
          const userPoolId = UserPool?.Id as string;
          const service = serviceOn(registry, userPoolId);
          const knownIds = new Map<number, string>();
          for (const index of existing) {
            const app = apps[index] as App;
            knownIds.set(index, credentialIdOf(await service.create(createRequestOf(app, app.apis.slice(0, 1)))));
          }

          // Act
          const settled = await interleaver.run(
            scheduler,
            operations.map((op) => () => perform(service, op, knownIds)),
          );

          // Assess
          const answers = settled.map((result) => (result.status === 'fulfilled' ? result.value : { status: 500, code: String(result.reason) }));
          operations.forEach((op, index) => {
            const answer = answers[index] as Answer;
            expect(expectedAnswers[op.kind], `${op.kind} answered ${answer.status} ${answer.code ?? ''}`).toContain(answer.status);
            if (answer.status === 409) expect(busyCodes).toContain(answer.code);
          });
          await expectRegistryEqualsAws(registry, userPoolId);
          // Without a revoke in the race, every create of an app answers with its one credential.
          for (const [index, app] of apps.entries()) {
            const revoked = operations.some((op, at) => op.app === index && op.kind === 'revoke' && answers[at]?.status === 204);
            const created = answers
              .filter((answer, at) => operations[at]?.app === index && answer.status === 200)
              .map((answer) => answer.credentialId);
            if (!revoked && created.length > 0)
              expect(new Set(created), app.appSlug).toEqual(new Set([(await registry.get(app.appSlug))?.credentialId]));
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
