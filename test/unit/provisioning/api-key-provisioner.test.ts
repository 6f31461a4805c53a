import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeyCommand,
  GetApiKeysCommand,
  GetUsagePlanCommand,
  GetUsagePlanKeyCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyProvisioner } from '#provisioning/api-key-provisioner';
import { LeftoversError } from '#provisioning/provisioner';
import { type ApiStage, UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import { aws, awsError, resetAwsMocks } from '../../helpers/aws-mocks.ts';

const app = { appKey: 'shop', appName: 'Shop', developer: 'dev@example.com' };
const grant = (...usagePlanIds: string[]) => ({ apiIds: ['5aba4csvd4'], usagePlanIds, scopes: [] });
const client = new APIGatewayClient({ region: 'us-east-1' });
const provisionerOf = (linkable?: string[], deploymentId?: string) =>
  new ApiKeyProvisioner(client, new UsagePlanCatalog(client), linkable, deploymentId);
let provisioner: ApiKeyProvisioner;

/** The stage a test plan serves: `<stage>-...` names one of the orders API's stages; any other plan has a stage of its own. */
const stagesOf = (usagePlanId: string): ApiStage[] => [{ apiId: '5aba4csvd4', stage: usagePlanId.split('-')[0] as string }];
/** The key's current links, as GetUsagePlans lists them (with their stages). */
const linkedTo = (...planIds: string[]) =>
  aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: planIds.map((id) => ({ id, apiStages: stagesOf(id) })) });
/** Records every link and unlink in the order AWS sees them. */
const recordWrites = () => {
  const writes: string[] = [];
  aws.apiGateway.on(CreateUsagePlanKeyCommand).callsFake(async ({ usagePlanId }) => void writes.push(`link ${usagePlanId}`));
  aws.apiGateway.on(DeleteUsagePlanKeyCommand).callsFake(async ({ usagePlanId }) => void writes.push(`unlink ${usagePlanId}`));
  return writes;
};

describe('ApiKeyProvisioner', () => {
  beforeEach(() => {
    resetAwsMocks();
    provisioner = provisionerOf();
    aws.apiGateway.on(GetUsagePlanCommand).callsFake(async ({ usagePlanId }) => ({ id: usagePlanId, apiStages: stagesOf(usagePlanId) }));
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'k1', value: 'v'.repeat(40) });
    aws.apiGateway.on(CreateUsagePlanKeyCommand).resolves({});
    aws.apiGateway.on(DeleteUsagePlanKeyCommand).resolves({});
    aws.apiGateway.on(DeleteApiKeyCommand).resolves({});
    aws.apiGateway.on(GetApiKeyCommand).resolves({ id: 'k1' });
  });

  it('links a new key to all its usage plans at once', async () => {
    // Prepare
    let inFlight = 0;
    let peak = 0;
    aws.apiGateway.on(CreateUsagePlanKeyCommand).callsFake(async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return {};
    });

    // Act
    await provisioner.create(app, grant('a', 'b', 'c'));

    // Assess
    expect(peak).toBe(3);
  });

  it('treats a link answered "conflict" as done once AWS confirms it exists', async () => {
    // Prepare
    aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('ConflictException', 409));
    aws.apiGateway.on(GetUsagePlanKeyCommand, { usagePlanId: 'a', keyId: 'k1' }).resolves({ id: 'k1' });

    // Act
    const issued = await provisioner.create(app, grant('a'));

    // Assess
    expect(issued.credentialId).toBe('k1');
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand)).toHaveLength(0);
  });

  it('fails a link answered "conflict" that does not exist, and deletes the key', async () => {
    // Prepare
    aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('ConflictException', 409));
    aws.apiGateway.on(GetUsagePlanKeyCommand).rejects(awsError('NotFoundException', 404));

    // Act
    const failure = await provisioner.create(app, grant('a')).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'ConflictException' });
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand)).toHaveLength(1);
  });

  it('reports leftovers when the key cannot be deleted after a failed link', async () => {
    // Prepare
    aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('InternalFailure', 500));
    aws.apiGateway.on(DeleteApiKeyCommand).rejects(awsError('InternalFailure', 500));

    // Act
    const failure = await provisioner.create(app, grant('a')).catch((error) => error);

    // Assess
    expect(failure).toBeInstanceOf(LeftoversError);
  });

  it('keeps the claim (LeftoversError) when CreateApiKey fails without saying whether it happened', async () => {
    // Prepare
    aws.apiGateway.on(CreateApiKeyCommand).rejectsOnce(awsError('InternalFailure', 500)).rejectsOnce(awsError('BadRequestException', 400));

    // Act
    const unknownOutcome = await provisioner.create(app, grant('a')).catch((error) => error);
    const refused = await provisioner.create(app, grant('a')).catch((error) => error);

    // Assess
    expect(unknownOutcome).toBeInstanceOf(LeftoversError);
    expect(refused).not.toBeInstanceOf(LeftoversError);
    expect(refused.name).toBe('BadRequestException');
  });

  it('deletes a key an earlier, lost attempt made when the SDK had to retry the create', async () => {
    // Prepare
    const tags = { 'managed-by': 'portal-credentials-webhook', 'portal-app-key': 'shop' };
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'k2', value: 'v'.repeat(40), $metadata: { attempts: 2 } });
    aws.apiGateway.on(GetApiKeysCommand).resolves({
      items: [
        { id: 'k1-lost', name: 'portal-shop', tags },
        { id: 'k2', name: 'portal-shop', tags },
      ],
    });

    // Act
    const issued = await provisioner.create(app, grant('a'));

    // Assess
    expect(issued.credentialId).toBe('k2');
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand).map((c) => c.args[0].input.apiKey)).toEqual(['k1-lost']);
  });

  it("cleans up a lost attempt's key without touching another deployment's key for the same app", async () => {
    // Prepare: staging beside production in one account and Region; the app "shop" has a key in both.
    const staging = provisionerOf(undefined, 'PortalStaging');
    const tagged = (deployment?: string) => ({
      'managed-by': 'portal-credentials-webhook',
      'portal-app-key': 'shop',
      ...(deployment ? { 'portal-deployment': deployment } : {}),
    });
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'k2', value: 'v'.repeat(40), $metadata: { attempts: 2 } });
    aws.apiGateway.on(GetApiKeysCommand).resolves({
      items: [
        { id: 'production-live', name: 'portal-shop', tags: tagged('PortalCredentialsWebhook') },
        { id: 'staging-lost', name: 'portal-shop', tags: tagged('PortalStaging') },
        { id: 'made-before-deployment-tags', name: 'portal-shop', tags: tagged() },
        { id: 'k2', name: 'portal-shop', tags: tagged('PortalStaging') },
      ],
    });

    // Act
    const issued = await staging.create(app, grant('a'));

    // Assess: its own lost key and the legacy one go; production's live key stays.
    expect(issued.credentialId).toBe('k2');
    expect(
      aws.apiGateway
        .commandCalls(DeleteApiKeyCommand)
        .map((c) => c.args[0].input.apiKey)
        .sort(),
    ).toEqual(['made-before-deployment-tags', 'staging-lost']);
    expect(aws.apiGateway.commandCalls(CreateApiKeyCommand)[0]?.args[0].input.tags).toMatchObject({ 'portal-deployment': 'PortalStaging' });
  });

  it("tags the key with the app and developer in AWS's tag characters, keeping an email's @ and replacing the rest", async () => {
    // Prepare: an apostrophe, a "!" and a tab are outside AWS's tag characters; letters, spaces, "+" and "@" are in.
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'k1', value: 'v'.repeat(40) });

    // Act
    await provisioner.create({ ...app, developer: "o'neil!\tJosé +dev@example.com" }, grant());

    // Assess
    const { tags } = aws.apiGateway.commandCalls(CreateApiKeyCommand)[0]!.args[0].input;
    expect(tags).toEqual({
      'managed-by': 'portal-credentials-webhook',
      'portal-deployment': 'local',
      'portal-app-key': 'shop',
      developer: 'o_neil__José +dev@example.com',
    });
    for (const text of [...Object.keys(tags!), ...Object.values(tags!)]) expect(text).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
  });

  it('fails rather than answer a key without its value, and deletes that key', async () => {
    // Prepare
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'k1' });

    // Act + Assess
    await expect(provisioner.create(app, grant('a'))).rejects.toMatchObject({ name: 'IncompleteAnswer' });
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand).map((c) => c.args[0].input.apiKey)).toEqual(['k1']);
  });

  it('keeps the claim (LeftoversError) for a key answered without its id: only a search by name can find it', async () => {
    // Prepare
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ value: 'v'.repeat(40) });

    // Act + Assess
    await expect(provisioner.create(app, grant('a'))).rejects.toMatchObject({ name: 'LeftoversError', original: { name: 'IncompleteAnswer' } });
  });

  it('reveals an existing key with its value, and nothing for a deleted one', async () => {
    // Prepare
    aws.apiGateway.on(GetApiKeyCommand, { apiKey: 'k1', includeValue: true }).resolves({ id: 'k1', value: 'the-value-xxxxxxxxxxxxxxxx' });
    aws.apiGateway.on(GetApiKeyCommand, { apiKey: 'gone', includeValue: true }).rejects(awsError('NotFoundException', 404));

    // Act
    const found = await provisioner.reveal({ credentialId: 'k1' });
    const gone = await provisioner.reveal({ credentialId: 'gone' });

    // Assess
    expect(found).toEqual({ credentialId: 'k1', secret: 'the-value-xxxxxxxxxxxxxxxx' });
    expect(gone).toBeUndefined();
  });

  it('regrants from the links AWS reports, across pages, changing only the difference', async () => {
    // Prepare
    aws.apiGateway
      .on(GetUsagePlansCommand)
      .resolvesOnce({ items: [{ id: 'a' }], position: 'page2' })
      .resolvesOnce({ items: [{ id: 'b' }] });

    // Act
    await provisioner.regrant({ credentialId: 'k1' }, grant('b', 'c'));

    // Assess
    // (the paginator reuses one input object, so only the last page's position is visible)
    const pages = aws.apiGateway.commandCalls(GetUsagePlansCommand).map((c) => c.args[0].input);
    expect(pages).toHaveLength(2);
    expect(pages[1]).toEqual({ keyId: 'k1', limit: 500, position: 'page2' });
    expect(aws.apiGateway.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['c']);
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['a']);
  });

  it('undoes the links it added when another addition fails, and removes nothing', async () => {
    // Prepare
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'old' }] });
    aws.apiGateway.on(CreateUsagePlanKeyCommand, { usagePlanId: 'missing' }).rejects(awsError('NotFoundException', 404));

    // Act
    const failure = await provisioner.regrant({ credentialId: 'k1' }, grant('new', 'missing')).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ statusCode: 422, code: 'UNKNOWN_USAGE_PLAN' });
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['new']);
  });

  it('puts back the links it removed when another removal fails', async () => {
    // Prepare
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'x' }, { id: 'y' }] });
    aws.apiGateway.on(DeleteUsagePlanKeyCommand, { usagePlanId: 'y' }).rejects(awsError('InternalFailure', 500));

    // Act
    const failure = await provisioner.regrant({ credentialId: 'k1' }, grant()).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'InternalFailure' });
    expect(aws.apiGateway.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['x']);
  });

  it('refuses with 409 to regrant a key deleted outside the webhook, instead of blaming a usage plan', async () => {
    // Prepare
    aws.apiGateway.on(GetApiKeyCommand).rejects(awsError('NotFoundException', 404));
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [] });

    // Act
    const failure = await provisioner.regrant({ credentialId: 'gone' }, grant('a')).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ statusCode: 409, code: 'CREDENTIAL_GONE' });
    expect(aws.apiGateway.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
  });

  it('removes before it adds when adding first would pass the 10-plan limit', async () => {
    // Prepare: six plans now, six others wanted.
    const now = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    const wanted = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: now.map((id) => ({ id })) });
    const order: string[] = [];
    aws.apiGateway.on(CreateUsagePlanKeyCommand).callsFake(async () => void order.push('link'));
    aws.apiGateway.on(DeleteUsagePlanKeyCommand).callsFake(async () => void order.push('unlink'));

    // Act
    await provisioner.regrant({ credentialId: 'k1' }, grant(...wanted));

    // Assess
    expect(order).toEqual([...now.map(() => 'unlink'), ...wanted.map(() => 'link')]);
  });

  it('undoes the additions when the removals then fail, leaving the links as they were', async () => {
    // Prepare
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'old' }] });
    aws.apiGateway.on(DeleteUsagePlanKeyCommand, { usagePlanId: 'old' }).rejects(awsError('InternalFailure', 500));

    // Act
    const failure = await provisioner.regrant({ credentialId: 'k1' }, grant('new')).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'InternalFailure' });
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['old', 'new']);
  });

  it('leaves alone links to usage plans this deployment does not manage', async () => {
    // Prepare
    const restricted = provisionerOf(['a', 'b']);
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'a' }, { id: 'hand-linked' }] });

    // Act
    await restricted.regrant({ credentialId: 'k1' }, grant('b'));

    // Assess
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['a']);
  });

  it('moves a key between two plans of one API stage: the old link goes before the new one is added', async () => {
    // Prepare
    linkedTo('prod-bronze');
    const writes = recordWrites();

    // Act
    await provisioner.regrant({ credentialId: 'k1' }, grant('prod-silver'));

    // Assess
    expect(writes).toEqual(['unlink prod-bronze', 'link prod-silver']);
  });

  it('removes first only the links that give way to an added plan, and the others after adding', async () => {
    // Prepare
    linkedTo('prod-bronze', 'beta-old');
    const writes = recordWrites();

    // Act
    await provisioner.regrant({ credentialId: 'k1' }, grant('prod-silver', 'sandbox-new'));

    // Assess
    expect(writes.slice(0, 1)).toEqual(['unlink prod-bronze']);
    expect(writes.slice(1, 3).sort()).toEqual(['link prod-silver', 'link sandbox-new']);
    expect(writes.slice(3)).toEqual(['unlink beta-old']);
  });

  it('puts the removed link back when the addition that displaced it fails', async () => {
    // Prepare
    linkedTo('prod-bronze');
    const writes = recordWrites();
    aws.apiGateway.on(CreateUsagePlanKeyCommand, { usagePlanId: 'prod-silver' }).callsFake(async () => {
      writes.push('link prod-silver (fails)');
      throw awsError('InternalFailure', 500);
    });

    // Act
    const failure = await provisioner.regrant({ credentialId: 'k1' }, grant('prod-silver')).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'InternalFailure' });
    expect(writes).toEqual(['unlink prod-bronze', 'link prod-silver (fails)', 'link prod-bronze']);
  });

  it('undoes both, last first, when a later removal fails: the added link goes before the displaced one returns', async () => {
    // Prepare
    linkedTo('prod-bronze', 'beta-old');
    const writes = recordWrites();
    aws.apiGateway.on(DeleteUsagePlanKeyCommand, { usagePlanId: 'beta-old' }).callsFake(async () => {
      writes.push('unlink beta-old (fails)');
      throw awsError('InternalFailure', 500);
    });

    // Act
    const failure = await provisioner.regrant({ credentialId: 'k1' }, grant('prod-silver')).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'InternalFailure' });
    expect(writes).toEqual(['unlink prod-bronze', 'link prod-silver', 'unlink beta-old (fails)', 'unlink prod-silver', 'link prod-bronze']);
  });

  it('keeps the 10-plan limit when a displaced link is removed first: the remaining removals then come first too', async () => {
    // Prepare: ten links now; one moves within its stage and two new stages are added, dropping two others.
    const now = ['prod-bronze', ...Array.from({ length: 9 }, (_, index) => `s${index}-plan`)];
    linkedTo(...now);
    const writes = recordWrites();
    const wanted = ['prod-silver', ...now.slice(1, 8), 'x1-plan', 'x2-plan'];

    // Act
    await provisioner.regrant({ credentialId: 'k1' }, grant(...wanted));

    // Assess: 10 - 1 + 3 would pass 10, so all three removals precede the additions.
    expect(writes.slice(0, 3).sort()).toEqual(['unlink prod-bronze', 'unlink s7-plan', 'unlink s8-plan']);
    expect(writes.slice(3).sort()).toEqual(['link prod-silver', 'link x1-plan', 'link x2-plan']);
  });

  it('refuses with 409, changing nothing, to displace a link to a plan this deployment does not manage', async () => {
    // Prepare
    linkedTo('prod-handmade');
    const writes = recordWrites();

    // Act
    const failure = await provisionerOf(['prod-silver'])
      .regrant({ credentialId: 'k1' }, grant('prod-silver'))
      .catch((error) => error);

    // Assess
    expect(failure).toMatchObject({
      statusCode: 409,
      code: 'USAGE_PLAN_STAGE_TAKEN',
      message: expect.stringMatching(/prod-handmade.*prod-silver.*by hand/),
    });
    expect(writes).toEqual([]);
  });

  it.each(['ConflictException', 'BadRequestException'])(
    'answers 409 when AWS refuses a link with %s because another plan of the stage took the key meanwhile',
    async (errorName) => {
      // Prepare: no links when read; by the time of the link, a concurrent change put the key in prod-gold.
      aws.apiGateway
        .on(GetUsagePlansCommand)
        .resolvesOnce({ items: [] })
        .resolves({ items: [{ id: 'prod-gold', apiStages: stagesOf('prod-gold') }] });
      aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError(errorName, errorName === 'ConflictException' ? 409 : 400));
      aws.apiGateway.on(GetUsagePlanKeyCommand).rejects(awsError('NotFoundException', 404));

      // Act
      const failure = await provisioner.regrant({ credentialId: 'k1' }, grant('prod-silver')).catch((error) => error);

      // Assess
      expect(failure).toMatchObject({
        statusCode: 409,
        code: 'USAGE_PLAN_STAGE_TAKEN',
        message: expect.stringMatching(/prod-gold.*prod-silver.*retry/),
      });
    },
  );

  it('lets a refused link through as it is when no other plan of the stage holds the key', async () => {
    // Prepare
    linkedTo();
    aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('BadRequestException', 400));

    // Act
    const failure = await provisioner.regrant({ credentialId: 'k1' }, grant('prod-silver')).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'BadRequestException' });
  });

  it('makes no write at all when the links already match', async () => {
    // Prepare
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'a' }] });

    // Act
    await provisioner.regrant({ credentialId: 'k1' }, grant('a'));

    // Assess
    expect(aws.apiGateway.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand)).toHaveLength(0);
  });

  it('revokes idempotently: a key already gone is fine', async () => {
    // Prepare
    aws.apiGateway.on(DeleteApiKeyCommand).rejects(awsError('NotFoundException', 404));

    // Act + Assess
    await expect(provisioner.revoke({ credentialId: 'gone' })).resolves.toBeUndefined();
  });

  // The roles may read and delete only keys tagged as the webhook's; for a key that no longer
  // exists IAM may refuse (403) before API Gateway could answer 404.
  describe('when IAM refuses a call on a key, because it carries no tag of ours', () => {
    const accessDenied = () => awsError('AccessDeniedException', 403);
    const listing = (...ids: string[]) => ({ items: ids.map((id) => ({ id, name: `portal-${id}` })) });

    it('revokes idempotently a key that is no longer in the list of our keys, over every page', async () => {
      // Prepare
      aws.apiGateway.on(DeleteApiKeyCommand).rejects(accessDenied());
      aws.apiGateway
        .on(GetApiKeysCommand)
        .resolvesOnce({ ...listing('other1'), position: 'p2' })
        .resolves(listing('other2'));

      // Act
      await provisioner.revoke({ credentialId: 'gone' });

      // Assess: only the webhook's keys (named portal-…) were listed.
      expect(aws.apiGateway.commandCalls(GetApiKeysCommand).map((call) => call.args[0].input)).toEqual([
        expect.objectContaining({ nameQuery: 'portal-' }),
        expect.objectContaining({ nameQuery: 'portal-', position: 'p2' }),
      ]);
    });

    it('fails the revoke of a key that still exists (its tag was removed, or the role is wrong)', async () => {
      // Prepare
      aws.apiGateway.on(DeleteApiKeyCommand).rejects(accessDenied());
      aws.apiGateway.on(GetApiKeysCommand).resolves(listing('other', 'k1'));

      // Act + Assess
      await expect(provisioner.revoke({ credentialId: 'k1' })).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });

    it('reveals nothing for a key gone, and refuses to regrant it with 409', async () => {
      // Prepare
      aws.apiGateway.on(GetApiKeyCommand).rejects(accessDenied());
      aws.apiGateway.on(GetApiKeysCommand).resolves(listing('other'));
      aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [] });

      // Act + Assess
      await expect(provisioner.reveal({ credentialId: 'k1' })).resolves.toBeUndefined();
      await expect(provisioner.regrant({ credentialId: 'k1' }, grant('a'))).rejects.toMatchObject({ statusCode: 409, code: 'CREDENTIAL_GONE' });
    });

    it('does not take any other refusal for a key gone', async () => {
      // Prepare
      aws.apiGateway.on(DeleteApiKeyCommand).rejects(awsError('BadRequestException', 400));

      // Act + Assess
      await expect(provisioner.revoke({ credentialId: 'k1' })).rejects.toMatchObject({ name: 'BadRequestException' });
      expect(aws.apiGateway.commandCalls(GetApiKeysCommand)).toHaveLength(0);
    });
  });

  it('removes as leftovers only keys with the exact name and both our tags, over every page', async () => {
    // Prepare: the name query is a prefix match, and names are not unique.
    const tags = { 'managed-by': 'portal-credentials-webhook', 'portal-app-key': 'shop' };
    aws.apiGateway
      .on(GetApiKeysCommand)
      .resolvesOnce({
        items: [
          { id: 'mine1', name: 'portal-shop', tags },
          { id: 'prefix', name: 'portal-shopping', tags: { 'portal-app-key': 'shopping' } },
        ],
        position: 'p2',
      })
      .resolvesOnce({
        items: [
          { id: 'untagged', name: 'portal-shop', tags: {} },
          { id: 'hand-made', name: 'portal-shop', tags: { 'portal-app-key': 'shop' } },
          { id: 'mine2', name: 'portal-shop', tags },
        ],
      });

    // Act
    const removed = await provisioner.removeLeftovers(app);

    // Assess
    expect(removed).toBe(2);
    expect(
      aws.apiGateway
        .commandCalls(DeleteApiKeyCommand)
        .map((c) => c.args[0].input.apiKey)
        .sort(),
    ).toEqual(['mine1', 'mine2']);
  });
});
