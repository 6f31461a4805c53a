import { describe, expect, it } from 'vitest';
import { dynamodb } from '#clients/dynamodb';
import { awsError, regionFull } from '../../helpers/aws-errors.ts';
import { localPlaces } from '../../../local/local-webhook.ts';
import { leaseRunsOut } from '../../helpers/lease.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, exampleApiId, examplePlanId } from '../../helpers/portal.ts';

// The functions' own lease, run out by hand where a test shows recovery after a failed call; a short wait.
const { webhook, registry, post } = await startWebhookForTests({ environment: { CLAIM_WAIT_SECONDS: '0.2' } });
const { controlPlane } = webhook;

const home = '000000000000/us-east-1';
const europe = `${localPlaces.europe.account}/${localPlaces.europe.region}`;
const partner = `${localPlaces.partner.account}/${localPlaces.partner.region}`;
const everywhere = [home, europe, partner];
const apis = [
  { id: exampleApiId, usagePlans: [{ id: examplePlanId }] },
  { id: localPlaces.europe.apiId, usagePlans: [{ id: localPlaces.europe.usagePlanId }] },
  { id: localPlaces.partner.apiId, usagePlans: [{ id: localPlaces.partner.usagePlanId }] },
];
/** More failures than the SDK has attempts, so the fault outlives its retries. */
const persistent = 10;

const create = (appSlug: string) => post('/v1/createCredentials', createRequest({ appSlug, apis }));
const keysOf = (appSlug: string, place: string) => controlPlane.apiKeys(place).filter((key) => key.name === `portal-${appSlug}`);

/** After any failure and its retry: one key per place, all with the answered value, and the registry naming each. */
const expectOneKeyPerPlace = async (appSlug: string, answer: { apiKeyId: string; apiKey: string }) => {
  const keys = everywhere.map((place) => keysOf(appSlug, place));
  expect(keys.map((inPlace) => inPlace.length)).toEqual([1, 1, 1]);
  expect(keys.map((inPlace) => inPlace[0]?.value)).toEqual([answer.apiKey, answer.apiKey, answer.apiKey]);
  const record = await registry.get(appSlug);
  expect(record).toMatchObject({ state: 'ACTIVE', credentialId: answer.apiKeyId });
  expect(record?.placedIds).toEqual(Object.fromEntries(everywhere.map((place, index) => [place, keys[index]?.[0]?.id])));
};

describe('faults in one place of a create that spans three', () => {
  it('AWS refusing a key in the partner account because its Region is full: 503 QUOTA_EXCEEDED naming it, not retried, nothing left anywhere', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', regionFull, persistent, { place: partner });
    const before = controlPlane.calls(partner).CreateApiKey ?? 0;

    // Act
    const refused = await create('partner-region-full');
    const attempts = (controlPlane.calls(partner).CreateApiKey ?? 0) - before;
    controlPlane.clearFaults();

    // Assess
    expect(refused.status).toBe(503);
    expect(refused.json.code).toBe('QUOTA_EXCEEDED');
    expect(refused.json.message).toMatch(/^API keys in account 222222222222, Region us-west-2: AWS refused a new key/);
    expect(attempts).toBe(1);
    expect(everywhere.flatMap((place) => keysOf('partner-region-full', place))).toEqual([]);
    expect(await registry.get('partner-region-full')).toBeUndefined();
  });

  it('a 5xx in Europe after the others made their keys: 502, the claim kept, and the retry after its lease cleans every place and completes', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 500, errorType: 'InternalFailure' }, persistent, { place: europe });

    // Act
    const failed = await create('europe-fails');
    const claim = await registry.get('europe-fails');
    controlPlane.clearFaults();
    await leaseRunsOut('europe-fails', webhook.tableName);
    const retried = await create('europe-fails');

    // Assess
    expect(failed.status).toBe(502);
    expect(claim?.state).toBe('PENDING');
    expect(retried.status).toBe(200);
    await expectOneKeyPerPlace('europe-fails', retried.json);
  });

  it("the partner account's answer to CreateApiKey lost after the key was made: the SDK's retry meets the value and takes that key, no twin", async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'drop-answer' }, 1, { place: partner });

    // Act
    const created = await create('partner-answer-lost');

    // Assess
    expect(created.status).toBe(200);
    await expectOneKeyPerPlace('partner-answer-lost', created.json);
  });

  it('a link refused in Europe during an update that adds Europe: 502, the key made there deleted, the record unchanged', async () => {
    // Prepare
    const first = await post('/v1/createCredentials', createRequest({ appSlug: 'update-refused', apis: [apis[0] as (typeof apis)[0]] }));
    controlPlane.injectFault('CreateUsagePlanKey', { kind: 'error', status: 400, errorType: 'BadRequestException', message: 'refused' }, 1, {
      place: europe,
    });

    // Act
    const update = () =>
      post('/v1/updateCredentials', {
        ...createRequest({ appSlug: 'update-refused', apis }),
        credentialType: 'API_KEY',
        apiKeyId: first.json.apiKeyId,
      });
    const refused = await update();
    const afterRefusal = await registry.get('update-refused');
    const europeAfterRefusal = keysOf('update-refused', europe);
    const retried = await update();

    // Assess
    expect(refused.status).toBe(502);
    expect(europeAfterRefusal).toEqual([]);
    expect(afterRefusal?.placedIds).toBeUndefined();
    expect(afterRefusal?.claimToken).toBeUndefined();
    expect(retried.status).toBe(204);
    await expectOneKeyPerPlace('update-refused', first.json);
  });

  it("an update that made Europe's key and then could not record it: the revoke that takes its hold over deletes that key too", async () => {
    // Prepare: the registry refuses the write that records the update's grant, once.
    const first = await post('/v1/createCredentials', createRequest({ appSlug: 'update-unrecorded', apis: [apis[0] as (typeof apis)[0]] }));
    let armed = true;
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { UpdateExpression?: string };
        if (armed && context.commandName === 'UpdateItemCommand' && input.UpdateExpression?.includes('usagePlanIds = :plans')) {
          armed = false;
          throw awsError('InternalServerError', 500);
        }
        return next(args);
      },
      { step: 'initialize', name: 'failRecordGrant', override: true },
    );
    const failed = await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'update-unrecorded', apis: [apis[0], apis[1]] as typeof apis }),
      credentialType: 'API_KEY',
      apiKeyId: first.json.apiKeyId,
    });
    const unrecorded = keysOf('update-unrecorded', europe);
    await leaseRunsOut('update-unrecorded', webhook.tableName);

    // Act
    const revoked = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: first.json.apiKeyId });

    // Assess
    expect(failed.status).toBe(502);
    expect(unrecorded).toHaveLength(1);
    expect((await registry.get('update-unrecorded'))?.state).toBe('REVOKED');
    expect(revoked.status).toBe(204);
    expect(everywhere.flatMap((place) => keysOf('update-unrecorded', place))).toEqual([]);
  });
});
