/**
 * The control-plane stand-in's places: API Gateway resources per account and Region, told apart by
 * the request's SigV4 signature (Region from the credential scope, account from the access key),
 * driven with the real SDK clients.
 */
import { readFileSync } from 'node:fs';
import {
  APIGatewayClient,
  BadRequestException,
  ConflictException,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetApiKeyCommand,
  GetRestApisCommand,
  GetUsagePlanCommand,
  GetUsagePlansCommand,
  LimitExceededException,
  NotFoundException,
  ServiceUnavailableException,
} from '@aws-sdk/client-api-gateway';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type ControlPlaneSeed, DEFAULT_PLACE, startAwsControlPlane } from '../../../local/stand-ins/aws-control-plane.ts';

const seed = JSON.parse(readFileSync(new URL('../../../local/seed.json', import.meta.url), 'utf8')) as ControlPlaneSeed;

const EU = '000000000000/eu-west-1';
const PARTNER_EU = '222222222222/eu-west-1';
const PARTNER_ROLE = 'arn:aws:iam::222222222222:role/portal-credentials-provisioner';
const EU_QUOTA = 3;

const controlPlane = await startAwsControlPlane({
  seed,
  places: {
    [EU]: {
      restApis: [{ id: 'eu0orders1', name: 'Orders API (EU)' }],
      usagePlans: [{ id: 'eu1plan', name: 'Bronze EU', apiStages: [{ apiId: 'eu0orders1', stage: 'prod' }] }],
      apiKeyQuota: EU_QUOTA,
    },
  },
  roles: [{ roleArn: PARTNER_ROLE, externalId: 'portal-external-id' }],
});
const local: AwsCredentialIdentity = { accessKeyId: 'local', secretAccessKey: 'local' };
const clients: { destroy(): void }[] = [];
afterAll(async () => {
  for (const client of clients) client.destroy();
  await controlPlane.close();
});
beforeEach(() => controlPlane.reset());

/** One attempt only, so an error reaches the test instead of being retried. */
const apiGatewayIn = (region: string, credentials: AwsCredentialIdentity = local) => {
  const client = new APIGatewayClient({ endpoint: controlPlane.url, region, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
};
const home = apiGatewayIn('us-east-1');
const eu = apiGatewayIn('eu-west-1');

const partnerCredentials = async (): Promise<AwsCredentialIdentity> => {
  const sts = new STSClient({ endpoint: controlPlane.url, region: 'eu-west-1', credentials: local, maxAttempts: 1 });
  clients.push(sts);
  const { Credentials } = await sts.send(
    new AssumeRoleCommand({ RoleArn: PARTNER_ROLE, RoleSessionName: 'local-deployment', ExternalId: 'portal-external-id' }),
  );
  return {
    accessKeyId: Credentials?.AccessKeyId ?? '',
    secretAccessKey: Credentials?.SecretAccessKey ?? '',
    sessionToken: Credentials?.SessionToken,
  };
};

const createKey = (client: APIGatewayClient, name: string, value?: string) => client.send(new CreateApiKeyCommand({ name, enabled: true, value }));
const names = (place?: string) => controlPlane.apiKeys(place).map((key) => key.name);
const failureOf = (attempt: Promise<unknown>) => attempt.then(() => undefined).catch((error: Error) => error);

describe('places: separate API Gateway state per Region and per account', () => {
  it('keeps a key made in eu-west-1 in eu-west-1: the default place (us-east-1) neither lists nor finds it', async () => {
    // Act
    const inEu = await createKey(eu, 'eu-developer');
    await createKey(home, 'home-developer');
    const lookedUpAtHome = failureOf(home.send(new GetApiKeyCommand({ apiKey: inEu.id })));

    // Assess
    expect(names(EU)).toEqual(['eu-developer']);
    expect(names()).toEqual(['home-developer']);
    expect(names(DEFAULT_PLACE)).toEqual(['home-developer']);
    expect(await lookedUpAtHome).toBeInstanceOf(NotFoundException);
  });

  it("keeps keys made with the partner role's credentials in the partner's account: same Region, another place", async () => {
    // Prepare
    const partner = apiGatewayIn('eu-west-1', await partnerCredentials());

    // Act
    const created = await createKey(partner, 'partner-developer');
    const lookedUpInOwnAccount = failureOf(eu.send(new GetApiKeyCommand({ apiKey: created.id })));

    // Assess
    expect(names(PARTNER_EU)).toEqual(['partner-developer']);
    expect(names(EU)).toEqual([]);
    expect(names()).toEqual([]);
    expect(await lookedUpInOwnAccount).toBeInstanceOf(NotFoundException);
  });

  it('serves each place its own seed, and a place nobody seeded empty', async () => {
    // Prepare
    const sydney = apiGatewayIn('ap-southeast-2');

    // Act
    const euPlans = await eu.send(new GetUsagePlansCommand({}));
    const homePlanInEu = failureOf(eu.send(new GetUsagePlanCommand({ usagePlanId: '1el57v' })));
    const sydneyApis = await sydney.send(new GetRestApisCommand({}));
    const sydneyPlans = await sydney.send(new GetUsagePlansCommand({}));

    // Assess
    expect(euPlans.items?.map((plan) => plan.id)).toEqual(['eu1plan']);
    expect(await homePlanInEu).toBeInstanceOf(NotFoundException);
    expect(sydneyApis.items).toEqual([]);
    expect(sydneyPlans.items).toEqual([]);
  });

  it("links a key to its own place's plan, as usagePlanKeyIds(plan, place) shows", async () => {
    // Prepare
    const key = await createKey(eu, 'eu-linked');

    // Act
    await eu.send(new CreateUsagePlanKeyCommand({ usagePlanId: 'eu1plan', keyId: key.id, keyType: 'API_KEY' }));

    // Assess
    expect(controlPlane.usagePlanKeyIds('eu1plan', EU)).toEqual([key.id]);
    expect(() => controlPlane.usagePlanKeyIds('eu1plan')).toThrow(/Unknown usage plan eu1plan in 000000000000\/us-east-1/);
  });

  it('refuses a view of a place that is not "account/region"', () => {
    // Act
    const view = () => controlPlane.apiKeys('eu-west-1');

    // Assess
    expect(view).toThrow(/not "account\/region"/);
  });

  it('empties every place on reset, back to each place’s seed', async () => {
    // Prepare
    await createKey(eu, 'eu-before-reset');
    await createKey(home, 'home-before-reset');

    // Act
    controlPlane.reset();

    // Assess
    expect(names(EU)).toEqual([]);
    expect(names()).toEqual([]);
    expect((await eu.send(new GetUsagePlansCommand({}))).items?.map((plan) => plan.id)).toEqual(['eu1plan']);
  });
});

describe('places: API key values', () => {
  it('accepts one value once in each place (Region or account) and refuses it a second time in one place with ConflictException', async () => {
    // Prepare
    const value = 'SharedValueAcrossPlaces0123456789';
    const partner = apiGatewayIn('eu-west-1', await partnerCredentials());

    // Act
    await createKey(home, 'home', value);
    await createKey(eu, 'eu', value);
    await createKey(partner, 'partner', value);
    const twiceInEu = failureOf(createKey(eu, 'eu-again', value));

    // Assess
    expect(await twiceInEu).toBeInstanceOf(ConflictException);
    expect([DEFAULT_PLACE, EU, PARTNER_EU].map((place) => controlPlane.apiKeys(place).map((key) => key.value))).toEqual([[value], [value], [value]]);
  });

  it('accepts values of 20 and 128 alphanumerics and refuses 19, 129 or a non-alphanumeric character with BadRequestException', async () => {
    // Act
    const shortest = await createKey(home, 'shortest', 'a'.repeat(20));
    const longest = await createKey(home, 'longest', 'B'.repeat(128));
    const refusals = await Promise.all(
      ['c'.repeat(19), 'D'.repeat(129), `${'e'.repeat(20)}-x`].map((value) => failureOf(createKey(home, 'refused', value))),
    );

    // Assess
    expect([shortest.value?.length, longest.value?.length]).toEqual([20, 128]);
    for (const refusal of refusals) expect(refusal).toBeInstanceOf(BadRequestException);
    expect(names()).toEqual(['shortest', 'longest']);
  });
});

describe('places: the API-key quota', () => {
  it('answers LimitExceededException (429) once a place holds its quota of keys, while other places still create', async () => {
    // Prepare
    for (let index = 0; index < EU_QUOTA; index += 1) await createKey(eu, `eu-${index}`);

    // Act
    const full = await failureOf(createKey(eu, 'one-too-many'));
    const elsewhere = await createKey(home, 'home-still-fine');

    // Assess
    expect(full).toBeInstanceOf(LimitExceededException);
    expect(full).toMatchObject({ $metadata: { httpStatusCode: 429 }, message: expect.stringMatching(/^Maximum number of API Keys/) });
    expect(names(EU)).toHaveLength(EU_QUOTA);
    expect(elsewhere.name).toBe('home-still-fine');
  });

  it('frees a slot when a key of the full place is deleted', async () => {
    // Prepare
    const made = [];
    for (let index = 0; index < EU_QUOTA; index += 1) made.push(await createKey(eu, `eu-${index}`));
    await eu.send(new DeleteApiKeyCommand({ apiKey: made[0]?.id }));

    // Act
    const created = await createKey(eu, 'after-delete');

    // Assess
    expect(created.name).toBe('after-delete');
    expect(names(EU)).toHaveLength(EU_QUOTA);
  });

  it("holds AWS's 10,000 keys per place unless lowered, and cannot be raised above it (the quota is not adjustable)", async () => {
    // Act
    const raised = startAwsControlPlane({ places: { [EU]: { restApis: [], usagePlans: [], apiKeyQuota: 10_001 } } });

    // Assess
    await expect(raised).rejects.toThrow(/apiKeyQuota must be an integer from 0 to 10000/);
  });
});

describe('places: calls and faults per place', () => {
  it('fails only the aimed place’s calls with a fault injected for one place, and counts calls per place and in total', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 503, errorType: 'ServiceUnavailableException' }, 1, { place: EU });

    // Act
    const atHome = await createKey(home, 'home-unaffected');
    const inEu = await failureOf(createKey(eu, 'eu-faulted'));
    const euAfter = await createKey(eu, 'eu-after-fault');

    // Assess
    expect(atHome.name).toBe('home-unaffected');
    expect(inEu).toBeInstanceOf(ServiceUnavailableException);
    expect(euAfter.name).toBe('eu-after-fault');
    expect(controlPlane.calls(EU)).toEqual({ CreateApiKey: 2 });
    expect(controlPlane.calls(DEFAULT_PLACE)).toEqual({ CreateApiKey: 1 });
    expect(controlPlane.calls()).toEqual({ CreateApiKey: 3 });
  });

  it('fails the next call of any place with a fault injected without a place, as before places', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 503, errorType: 'ServiceUnavailableException' });

    // Act
    const inEu = await failureOf(createKey(eu, 'eu-faulted'));
    const atHome = await createKey(home, 'home-after');

    // Assess
    expect(inEu).toBeInstanceOf(ServiceUnavailableException);
    expect(atHome.name).toBe('home-after');
  });

  it('lands an unsigned request in the default place', async () => {
    // Act
    const answer = await fetch(`${controlPlane.url}/apikeys`, { method: 'POST', body: JSON.stringify({ name: 'unsigned' }) });

    // Assess
    expect(answer.status).toBe(201);
    expect(names()).toEqual(['unsigned']);
  });
});
