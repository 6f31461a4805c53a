import { onTestFinished, describe, expect, it } from 'vitest';
import { dynamodb } from '#clients/dynamodb';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { loseNextAnswer, updating } from '../../helpers/lost-answers.ts';
import { createRequest, withPlans } from '../../helpers/portal.ts';

// A short wait: a call that waited for itself would answer 409 quickly instead of hanging the test.
const { webhook, registry, post } = await startWebhookForTests({ environment: { CLAIM_WAIT_SECONDS: '0.2' } });
const { controlPlane } = webhook;

const plans = ['1el57v', '2fm68w', '3gn79x', '5ip91z'];
const keysOf = (appSlug: string) => controlPlane.apiKeys().filter((key) => key.name === `portal-${appSlug}`);
const linkedPlans = (apiKeyId: string) => plans.filter((plan) => controlPlane.usagePlanKeyIds(plan).includes(apiKeyId));
const create = (appSlug: string, ...planIds: string[]) =>
  post('/v1/createCredentials', createRequest({ appSlug, apis: withPlans(...(planIds.length ? planIds : ['1el57v'])) }));
const update = (appSlug: string, apiKeyId: string, ...planIds: string[]) =>
  post('/v1/updateCredentials', { ...createRequest({ appSlug, apis: withPlans(...planIds) }), credentialType: 'API_KEY', apiKeyId });
const revoke = (apiKeyId: string) => post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId });

/** Until the test ends, the webhook's next registry write `command` that `matches` is carried out, but its answer is lost and the SDK retries it. */
const loseNextRegistryAnswer = (command: string, matches?: (input: Record<string, unknown>) => boolean) => {
  const fault = loseNextAnswer(dynamodb, command, matches);
  onTestFinished(fault.remove);
  return fault;
};

/** The registry equals AWS: the recorded key and its links, or no key; and nobody holds the app. */
const expectRegistryEqualsAws = async (appSlug: string) => {
  const record = await registry.get(appSlug);
  const keys = keysOf(appSlug);
  expect(record?.claimToken).toBeUndefined();
  if (record?.state !== 'ACTIVE') return expect(keys).toHaveLength(0);
  expect(keys.map((key) => key.id)).toEqual([record.credentialId]);
  expect(linkedPlans(record.credentialId as string)).toEqual(record.usagePlanIds);
};

describe('a registry write applied but its answer lost, retried by the SDK', () => {
  it('the claim of a create: the create finds its own claim, issues one key, answered 200', async () => {
    // Prepare
    const fault = loseNextRegistryAnswer('PutItemCommand');

    // Act
    const response = await create('lost-claim');

    // Assess
    expect(fault.fired).toBe(true);
    expect(response.status).toBe(200);
    expect(keysOf('lost-claim').map((key) => key.id)).toEqual([response.json.apiKeyId]);
    await expectRegistryEqualsAws('lost-claim');
  });

  it.each([
    ['hold', updating('SET claimToken')],
    ['recorded grant', updating('SET apiIds')],
  ])('the %s of an update: the update completes, answered 204', async (write, matches) => {
    // Prepare
    const appSlug = `lost-update-${write.replace(' ', '-')}`;
    const { json } = await create(appSlug);
    const fault = loseNextRegistryAnswer('UpdateItemCommand', matches);

    // Act
    const response = await update(appSlug, json.apiKeyId, '2fm68w', '5ip91z');

    // Assess
    expect(fault.fired).toBe(true);
    expect(response.status).toBe(204);
    expect(linkedPlans(json.apiKeyId)).toEqual(['2fm68w', '5ip91z']);
    await expectRegistryEqualsAws(appSlug);
  });

  it.each([
    ['hold', updating('SET claimToken')],
    ['revocation', updating(':revoked')],
  ])('the %s of a revoke: the revoke completes, answered 204', async (write, matches) => {
    // Prepare
    const appSlug = `lost-revoke-${write}`;
    const { json } = await create(appSlug);
    const fault = loseNextRegistryAnswer('UpdateItemCommand', matches);

    // Act
    const response = await revoke(json.apiKeyId);

    // Assess
    expect(fault.fired).toBe(true);
    expect(response.status).toBe(204);
    expect((await registry.get(appSlug))?.state).toBe('REVOKED');
    await expectRegistryEqualsAws(appSlug);
  });

  it('the hold of a repeated create with other plans: the key is brought in line and answered 200', async () => {
    // Prepare
    const { json: first } = await create('lost-replay');
    const fault = loseNextRegistryAnswer('UpdateItemCommand', updating('SET claimToken'));

    // Act
    const response = await create('lost-replay', '2fm68w');

    // Assess
    expect(fault.fired).toBe(true);
    expect(response.status).toBe(200);
    expect(response.json.apiKeyId).toBe(first.apiKeyId);
    await expectRegistryEqualsAws('lost-replay');
  });
});
