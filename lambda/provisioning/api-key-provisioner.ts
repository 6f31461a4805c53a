import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeyCommand,
  GetUsagePlanKeyCommand,
  paginateGetApiKeys,
  paginateGetUsagePlans,
} from '@aws-sdk/client-api-gateway';
import { conflict, unprocessable } from '#contract/errors';
import { createOrLeftovers, earlierAttemptMayHaveSucceeded, isNotFound, requireAnswer } from './aws-failures.ts';
import { type AppIdentity, type Grant, type IssuedCredential, LeftoversError, type Provisioner, resourceName } from './provisioner.ts';

export const managedByTag = 'managed-by';
export const managedByValue = 'portal-credentials-webhook';
export const appKeyTag = 'portal-app-key';

// API Gateway tag values allow letters, digits, spaces and _ . : / = + - @ only.
const tagValue = (text: string) => text.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, '_').slice(0, 256);

/** Undoes a partial change, then rethrows what caused it; a failed undo is reported as leftovers. */
const undoThenRethrow = async (failure: unknown, undo: () => Promise<unknown>): Promise<never> => {
  try {
    await undo();
  } catch (undoFailure) {
    throw new LeftoversError(failure, undoFailure);
  }
  throw failure;
};

/** Runs every step at once; if any fails, undoes the ones that succeeded and rethrows the first failure. */
const allOrNothing = async <T>(items: readonly T[], step: (item: T) => Promise<unknown>, undo: (item: T) => Promise<unknown>) => {
  const results = await Promise.allSettled(items.map(step));
  const failure = results.find((result) => result.status === 'rejected');
  if (!failure) return;
  const succeeded = items.filter((_, index) => results[index]?.status === 'fulfilled');
  await undoThenRethrow(failure.reason, () => Promise.all(succeeded.map(undo)));
};

/** API Gateway lets one API key join at most 10 usage plans. */
const maxUsagePlansPerKey = 10;

/** API Gateway API keys, reaching APIs through usage plans. */
export class ApiKeyProvisioner implements Provisioner {
  readonly credentialType = 'API_KEY' as const;

  /**
   * @param linkableUsagePlanIds the plans this deployment links keys to (its role may touch no
   *   other); a key's links to any other plan were made by hand and are left alone. Absent: any.
   */
  constructor(
    private readonly apiGateway: APIGatewayClient,
    private readonly linkableUsagePlanIds?: readonly string[],
  ) {}

  async create(app: AppIdentity, grant: Grant): Promise<IssuedCredential> {
    const key = await createOrLeftovers(
      this.apiGateway.send(
        new CreateApiKeyCommand({
        name: resourceName(app),
        description: `Portal app "${app.appName}" of ${app.developer}. Managed by ${managedByValue}: change it through the portal.`.slice(0, 1000),
        enabled: true,
        tags: { [managedByTag]: managedByValue, [appKeyTag]: tagValue(app.appKey), developer: tagValue(app.developer) },
        }),
      ),
    );
    const keyId = requireAnswer(key.id, 'CreateApiKey', 'an id');
    const value = requireAnswer(key.value, 'CreateApiKey', 'a value');
    // An earlier attempt that timed out or met a 5xx may have made a key whose answer was lost.
    if (earlierAttemptMayHaveSucceeded(key)) await this.removeLeftovers(app, keyId);
    const links = await Promise.allSettled(grant.usagePlanIds.map((planId) => this.link(keyId, planId)));
    const linkFailure = links.find((result) => result.status === 'rejected');
    // Deleting the key drops every link it got, so one delete undoes them all.
    if (linkFailure) await undoThenRethrow(linkFailure.reason, () => this.revoke(keyId));
    return { credentialId: keyId, secret: value };
  }

  async reveal(credentialId: string): Promise<IssuedCredential | undefined> {
    try {
      const key = await this.apiGateway.send(new GetApiKeyCommand({ apiKey: credentialId, includeValue: true }));
      return { credentialId, secret: requireAnswer(key.value, 'GetApiKey', 'a value') };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async regrant(credentialId: string, desired: Grant): Promise<void> {
    // AWS, not the registry, is the truth about links: an earlier update may have stopped halfway.
    const [linked, exists] = await Promise.all([this.linkedUsagePlans(credentialId), this.exists(credentialId)]);
    if (!exists) throw conflict('CREDENTIAL_GONE', 'The API key was deleted outside the webhook; revoke it and create new credentials.');
    const wanted = new Set(desired.usagePlanIds);
    const toLink = desired.usagePlanIds.filter((planId) => !linked.has(planId));
    const toUnlink = [...linked].filter((planId) => !wanted.has(planId) && this.mayLink(planId));
    const link = (planId: string) => this.link(credentialId, planId);
    const unlink = (planId: string) => this.unlink(credentialId, planId);
    const add = { run: () => allOrNothing(toLink, link, unlink), undo: () => Promise.all(toLink.map(unlink)) };
    const remove = { run: () => allOrNothing(toUnlink, unlink, link), undo: () => Promise.all(toUnlink.map(link)) };
    // Adding first never leaves the key without access, unless it would pass the 10-plan limit.
    const [first, second] = linked.size + toLink.length > maxUsagePlansPerKey ? [remove, add] : [add, remove];
    await first.run();
    try {
      await second.run();
    } catch (failure) {
      await undoThenRethrow(failure, first.undo);
    }
  }

  private mayLink(usagePlanId: string) {
    return this.linkableUsagePlanIds === undefined || this.linkableUsagePlanIds.includes(usagePlanId);
  }

  private async exists(keyId: string): Promise<boolean> {
    try {
      await this.apiGateway.send(new GetApiKeyCommand({ apiKey: keyId, includeValue: false }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async revoke(credentialId: string): Promise<void> {
    try {
      await this.apiGateway.send(new DeleteApiKeyCommand({ apiKey: credentialId }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async removeLeftovers(app: AppIdentity, keep?: string): Promise<number> {
    const name = resourceName(app);
    const leftovers: string[] = [];
    // nameQuery is a prefix match over pages: keep exact names carrying our tags only.
    for await (const page of paginateGetApiKeys({ client: this.apiGateway, pageSize: 500 }, { nameQuery: name })) {
      for (const key of page.items ?? []) {
        const ours = key.tags?.[managedByTag] === managedByValue && key.tags?.[appKeyTag] === tagValue(app.appKey);
        if (key.name === name && ours && key.id && key.id !== keep) leftovers.push(key.id);
      }
    }
    await Promise.all(leftovers.map((keyId) => this.revoke(keyId)));
    return leftovers.length;
  }

  private async link(keyId: string, usagePlanId: string): Promise<void> {
    try {
      await this.apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: 'API_KEY' }));
    } catch (error) {
      if (isNotFound(error)) throw unprocessable('UNKNOWN_USAGE_PLAN', `Usage plan ${usagePlanId} does not exist in this deployment.`);
      // "Conflict" is taken as done only once AWS confirms this very link exists.
      if ((error as Error).name !== 'ConflictException' || !(await this.isLinked(keyId, usagePlanId))) throw error;
    }
  }

  private async isLinked(keyId: string, usagePlanId: string): Promise<boolean> {
    try {
      await this.apiGateway.send(new GetUsagePlanKeyCommand({ usagePlanId, keyId }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  private async unlink(keyId: string, usagePlanId: string): Promise<void> {
    try {
      await this.apiGateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId, keyId }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private async linkedUsagePlans(keyId: string): Promise<Set<string>> {
    const plans = new Set<string>();
    try {
      for await (const page of paginateGetUsagePlans({ client: this.apiGateway, pageSize: 500 }, { keyId })) {
        for (const plan of page.items ?? []) if (plan.id) plans.add(plan.id);
      }
    } catch (error) {
      // A deleted key may be answered NotFound here; exists() reports it.
      if (!isNotFound(error)) throw error;
    }
    return plans;
  }
}
