import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeyCommand,
  GetApiKeysCommand,
  GetUsagePlanKeyCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyProvisioner } from '#provisioning/api-key-provisioner';
import { LeftoversError } from '#provisioning/provisioner';
import { aws, awsError, resetAwsMocks } from '../../helpers/aws-mocks.ts';

const app = { appKey: 'shop', appName: 'Shop', developer: 'dev@example.com' };
const grant = (...usagePlanIds: string[]) => ({ apiIds: ['5aba4csvd4'], usagePlanIds, scopes: [] });
const provisioner = new ApiKeyProvisioner(new APIGatewayClient({ region: 'us-east-1' }));

describe('ApiKeyProvisioner', () => {
  beforeEach(() => {
    resetAwsMocks();
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
    aws.apiGateway.on(GetApiKeysCommand).resolves({ items: [{ id: 'k1-lost', name: 'portal-shop', tags }, { id: 'k2', name: 'portal-shop', tags }] });

    // Act
    const issued = await provisioner.create(app, grant('a'));

    // Assess
    expect(issued.credentialId).toBe('k2');
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand).map((c) => c.args[0].input.apiKey)).toEqual(['k1-lost']);
  });

  it('fails rather than answer a key without its value', async () => {
    // Prepare
    aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'k1' });

    // Act + Assess
    await expect(provisioner.create(app, grant('a'))).rejects.toMatchObject({ name: 'IncompleteAnswer' });
  });

  it('reveals an existing key with its value, and nothing for a deleted one', async () => {
    // Prepare
    aws.apiGateway.on(GetApiKeyCommand, { apiKey: 'k1', includeValue: true }).resolves({ id: 'k1', value: 'the-value-xxxxxxxxxxxxxxxx' });
    aws.apiGateway.on(GetApiKeyCommand, { apiKey: 'gone', includeValue: true }).rejects(awsError('NotFoundException', 404));

    // Act
    const found = await provisioner.reveal('k1');
    const gone = await provisioner.reveal('gone');

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
    await provisioner.regrant('k1', grant('b', 'c'));

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
    const failure = await provisioner.regrant('k1', grant('new', 'missing')).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ statusCode: 422, code: 'UNKNOWN_USAGE_PLAN' });
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['new']);
  });

  it('puts back the links it removed when another removal fails', async () => {
    // Prepare
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'x' }, { id: 'y' }] });
    aws.apiGateway.on(DeleteUsagePlanKeyCommand, { usagePlanId: 'y' }).rejects(awsError('InternalFailure', 500));

    // Act
    const failure = await provisioner.regrant('k1', grant()).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'InternalFailure' });
    expect(aws.apiGateway.commandCalls(CreateUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['x']);
  });

  it('refuses with 409 to regrant a key deleted outside the webhook, instead of blaming a usage plan', async () => {
    // Prepare
    aws.apiGateway.on(GetApiKeyCommand).rejects(awsError('NotFoundException', 404));
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [] });

    // Act
    const failure = await provisioner.regrant('gone', grant('a')).catch((error) => error);

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
    await provisioner.regrant('k1', grant(...wanted));

    // Assess
    expect(order).toEqual([...now.map(() => 'unlink'), ...wanted.map(() => 'link')]);
  });

  it('undoes the additions when the removals then fail, leaving the links as they were', async () => {
    // Prepare
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'old' }] });
    aws.apiGateway.on(DeleteUsagePlanKeyCommand, { usagePlanId: 'old' }).rejects(awsError('InternalFailure', 500));

    // Act
    const failure = await provisioner.regrant('k1', grant('new')).catch((error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'InternalFailure' });
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['old', 'new']);
  });

  it('leaves alone links to usage plans this deployment does not manage', async () => {
    // Prepare
    const restricted = new ApiKeyProvisioner(new APIGatewayClient({ region: 'us-east-1' }), ['a', 'b']);
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'a' }, { id: 'hand-linked' }] });

    // Act
    await restricted.regrant('k1', grant('b'));

    // Assess
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand).map((c) => c.args[0].input.usagePlanId)).toEqual(['a']);
  });

  it('makes no write at all when the links already match', async () => {
    // Prepare
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'a' }] });

    // Act
    await provisioner.regrant('k1', grant('a'));

    // Assess
    expect(aws.apiGateway.commandCalls(CreateUsagePlanKeyCommand)).toHaveLength(0);
    expect(aws.apiGateway.commandCalls(DeleteUsagePlanKeyCommand)).toHaveLength(0);
  });

  it('revokes idempotently: a key already gone is fine', async () => {
    // Prepare
    aws.apiGateway.on(DeleteApiKeyCommand).rejects(awsError('NotFoundException', 404));

    // Act + Assess
    await expect(provisioner.revoke('gone')).resolves.toBeUndefined();
  });

  // The roles may read and delete only keys tagged as the webhook's; for a key that no longer
  // exists IAM may refuse (403) before API Gateway could answer 404.
  describe('when IAM refuses a call on a key, because it carries no tag of ours', () => {
    const accessDenied = () => awsError('AccessDeniedException', 403);
    const listing = (...ids: string[]) => ({ items: ids.map((id) => ({ id, name: `portal-${id}` })) });

    it('revokes idempotently a key that is no longer in the list of our keys, over every page', async () => {
      // Prepare
      aws.apiGateway.on(DeleteApiKeyCommand).rejects(accessDenied());
      aws.apiGateway.on(GetApiKeysCommand).resolvesOnce({ ...listing('other1'), position: 'p2' }).resolves(listing('other2'));

      // Act
      await provisioner.revoke('gone');

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
      await expect(provisioner.revoke('k1')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });

    it('reveals nothing for a key gone, and refuses to regrant it with 409', async () => {
      // Prepare
      aws.apiGateway.on(GetApiKeyCommand).rejects(accessDenied());
      aws.apiGateway.on(GetApiKeysCommand).resolves(listing('other'));
      aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [] });

      // Act + Assess
      await expect(provisioner.reveal('k1')).resolves.toBeUndefined();
      await expect(provisioner.regrant('k1', grant('a'))).rejects.toMatchObject({ statusCode: 409, code: 'CREDENTIAL_GONE' });
    });

    it('does not take any other refusal for a key gone', async () => {
      // Prepare
      aws.apiGateway.on(DeleteApiKeyCommand).rejects(awsError('BadRequestException', 400));

      // Act + Assess
      await expect(provisioner.revoke('k1')).rejects.toMatchObject({ name: 'BadRequestException' });
      expect(aws.apiGateway.commandCalls(GetApiKeysCommand)).toHaveLength(0);
    });
  });

  it('removes as leftovers only keys with the exact name and both our tags, over every page', async () => {
    // Prepare: the name query is a prefix match, and names are not unique.
    const tags = { 'managed-by': 'portal-credentials-webhook', 'portal-app-key': 'shop' };
    aws.apiGateway
      .on(GetApiKeysCommand)
      .resolvesOnce({ items: [{ id: 'mine1', name: 'portal-shop', tags }, { id: 'prefix', name: 'portal-shopping', tags: { 'portal-app-key': 'shopping' } }], position: 'p2' })
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
    expect(aws.apiGateway.commandCalls(DeleteApiKeyCommand).map((c) => c.args[0].input.apiKey).sort()).toEqual(['mine1', 'mine2']);
  });
});
