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
import { functionDefaults } from '#commons/defaults';
import { serviceName } from '#commons/service';
import { conflict, unprocessable } from '#contract/errors';
import { createOrLeftovers, earlierAttemptMayHaveSucceeded, isAccessDenied, isNotFound, requireAnswer } from './aws-failures.ts';
import { type AppIdentity, type IssuedCredential, leftoversOnFailure, resourceName, resourceNamePrefix, undoThenRethrow } from './provisioner.ts';
import { type ApiStage, maxUsagePlansPerKey, sameStage, type UsagePlanCatalog } from './usage-plan-catalog.ts';

export const managedByTag = 'managed-by';
export const managedByValue = serviceName;
export const appKeyTag = 'portal-app-key';
export const deploymentTag = 'portal-deployment';

/**
 * Whether the tags mark a key as this deployment's: the webhook's, and tagged with this deployment
 * (a stack beside it in the account and Region tags its own), or untagged, made before keys carried it.
 */
export const isOwnKey = (tags: Record<string, string> | undefined, deploymentId: string) =>
  tags?.[managedByTag] === managedByValue && (tags[deploymentTag] === undefined || tags[deploymentTag] === deploymentId);

// AWS's tag characters (its tagging conventions; API Gateway's model sets no pattern): letters, digits, Unicode spaces (not tabs or line breaks) and _ . : / = + - @.
export const tagValue = (text: string) => text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);

/** Runs every step at once; if any fails, undoes the ones that succeeded and rethrows the first failure. */
const allOrNothing = async <T>(items: readonly T[], step: (item: T) => Promise<unknown>, undo: (item: T) => Promise<unknown>) => {
  const results = await Promise.allSettled(items.map(step));
  const failure = results.find((result) => result.status === 'rejected');
  if (!failure) return;
  const succeeded = items.filter((_, index) => results[index]?.status === 'fulfilled');
  await undoThenRethrow(failure.reason, () => Promise.all(succeeded.map(undo)));
};

/** One step of a change: what it does, and how to take it back once it is done. */
interface Step {
  run(): Promise<unknown>;
  undo(): Promise<unknown>;
}

/** Runs the steps one after another; when one fails, undoes those done, the last first, and rethrows. */
const inOrder = async (steps: readonly Step[]) => {
  for (const [index, step] of steps.entries()) {
    try {
      await step.run();
    } catch (failure) {
      await undoThenRethrow(failure, async () => {
        for (const done of steps.slice(0, index).reverse()) await done.undo();
      });
    }
  }
};

const stageTaken = (holder: string, usagePlanId: string, next: string) =>
  conflict(
    'USAGE_PLAN_STAGE_TAKEN',
    `The API key is in usage plan ${holder}, which serves an API stage of usage plan ${usagePlanId}, and an API key can be in only one usage plan per API stage; ${next}`,
  );

/**
 * The API keys of one place (an account and Region), reaching APIs through the usage plans there.
 * Plan ids here are the place's own, bare. Every method leaves the place fully changed or as it was.
 */
export class ApiKeysInPlace {
  /**
   * @param linkableUsagePlanIds the plans this deployment links keys to (its role may touch no
   *   other); a key's links to any other plan were made by hand and are left alone. Absent: any.
   * @param deploymentId the stack's name, tagged on every key it makes: keys of another stack are never its own.
   */
  constructor(
    private readonly apiGateway: APIGatewayClient,
    private readonly usagePlans: UsagePlanCatalog,
    private readonly linkableUsagePlanIds?: readonly string[],
    private readonly deploymentId: string = functionDefaults.deploymentId,
  ) {}

  /**
   * Makes the app's key here, linked to `usagePlanIds`. `value`: the key's value, when the developer's
   * keys in other places share it; none: AWS chooses one.
   */
  async create(app: AppIdentity, usagePlanIds: readonly string[], value?: string): Promise<IssuedCredential> {
    const key = await createOrLeftovers(this.createKey(app, value));
    // AWS made a key: from here on a failure deletes it, or keeps the claim for the next call to.
    const keyId = await leftoversOnFailure(() => requireAnswer(key.id, 'CreateApiKey', 'an id'));
    // An earlier attempt that timed out or met a 5xx may have made a key whose answer was lost.
    if (earlierAttemptMayHaveSucceeded(key)) await leftoversOnFailure(() => this.removeLeftovers(app, [keyId]));
    try {
      const secret = requireAnswer(key.value, 'CreateApiKey', 'a value');
      const links = await Promise.allSettled(usagePlanIds.map((planId) => this.link(keyId, planId)));
      const linkFailure = links.find((result) => result.status === 'rejected');
      if (linkFailure) throw linkFailure.reason;
      return { credentialId: keyId, secret };
    } catch (failure) {
      // Deleting the key drops every link it got, so one delete undoes them all.
      return undoThenRethrow(failure, () => this.revoke(keyId));
    }
  }

  /**
   * CreateApiKey. A chosen value is unique within the place (AWS refuses a second key with it), so a
   * retry of an attempt whose answer was lost is refused as a conflict: the key that attempt made,
   * found by name, tags and value, is the answer.
   */
  private async createKey(app: AppIdentity, value: string | undefined): Promise<{ id?: string; value?: string; $metadata: { attempts?: number } }> {
    try {
      return await this.apiGateway.send(this.createKeyCommand(app, value));
    } catch (error) {
      if (value === undefined || (error as Error).name !== 'ConflictException') throw error;
      const made = await this.findOwn(app, value);
      if (!made) throw error;
      // Found, not created by this answer: no earlier attempt left a twin (the value is unique here).
      return { ...made, $metadata: { attempts: 1 } };
    }
  }

  /** The app's key here with this value, if this deployment made one. */
  async findOwn(app: AppIdentity, value: string): Promise<{ id: string; value: string } | undefined> {
    const name = resourceName(app);
    for await (const page of paginateGetApiKeys({ client: this.apiGateway, pageSize: 500 }, { nameQuery: name, includeValues: true })) {
      const key = page.items?.find((item) => item.name === name && item.value === value && this.isAppKey(item.tags, app));
      if (key?.id) return { id: key.id, value };
    }
    return undefined;
  }

  private isAppKey(tags: Record<string, string> | undefined, app: AppIdentity) {
    return isOwnKey(tags, this.deploymentId) && tags?.[appKeyTag] === tagValue(app.appKey);
  }

  private createKeyCommand(app: AppIdentity, value: string | undefined) {
    return new CreateApiKeyCommand({
      name: resourceName(app),
      description: `Portal app "${app.appName}" of ${app.developer}. Managed by ${managedByValue}: change it through the portal.`.slice(0, 1000),
      enabled: true,
      tags: {
        [managedByTag]: managedByValue,
        [deploymentTag]: this.deploymentId,
        [appKeyTag]: tagValue(app.appKey),
        developer: tagValue(app.developer),
      },
      ...(value === undefined ? {} : { value }),
    });
  }

  async reveal(credentialId: string): Promise<IssuedCredential | undefined> {
    try {
      const key = await this.apiGateway.send(new GetApiKeyCommand({ apiKey: credentialId, includeValue: true }));
      return { credentialId, secret: requireAnswer(key.value, 'GetApiKey', 'a value') };
    } catch (error) {
      if (await this.isGone(error, credentialId)) return undefined;
      throw error;
    }
  }

  /** Brings the key's links here in line with `usagePlanIds`, touching only what differs; answers whether anything did. */
  async regrant(credentialId: string, usagePlanIds: readonly string[]): Promise<boolean> {
    // AWS, not the registry, is the truth about links: an earlier update may have stopped halfway.
    const [linked, exists] = await Promise.all([this.linkedUsagePlans(credentialId), this.exists(credentialId)]);
    if (!exists) throw conflict('CREDENTIAL_GONE', 'The API key was deleted outside the webhook; revoke it and create new credentials.');
    const wanted = new Set(usagePlanIds);
    const toLink = usagePlanIds.filter((planId) => !linked.has(planId));
    const stale = [...linked.keys()].filter((planId) => !wanted.has(planId));
    // A key is in one plan per API stage, so a plan sharing a stage with an added one must go first.
    const addedStages = new Map(await Promise.all(toLink.map(async (planId) => [planId, (await this.usagePlans.stagesOf(planId)) ?? []] as const)));
    const displacedBy = (planId: string) =>
      toLink.find((added) => addedStages.get(added)?.some((stage) => linked.get(planId)?.some((held) => sameStage(held, stage))));
    const givesWay = (planId: string) => displacedBy(planId) !== undefined;
    const handMade = stale.find((planId) => givesWay(planId) && !this.mayLink(planId));
    if (handMade) {
      const message = 'that plan is not managed by this webhook: remove the key from it by hand, or ask for other plans.';
      throw stageTaken(handMade, displacedBy(handMade) as string, message);
    }
    const toUnlink = stale.filter((planId) => this.mayLink(planId));
    // Removing the rest after adding never leaves the key without access, unless adding first would pass the 10-plan limit.
    const early = toUnlink.filter(givesWay);
    const first = linked.size - early.length + toLink.length > maxUsagePlansPerKey ? toUnlink : early;
    const link = (planId: string) => this.link(credentialId, planId).catch((error: unknown) => this.explainRefusedLink(error, credentialId, planId));
    const unlink = (planId: string) => this.unlink(credentialId, planId);
    const adding = (plans: string[]): Step => ({ run: () => allOrNothing(plans, link, unlink), undo: () => Promise.all(plans.map(unlink)) });
    const removing = (plans: string[]): Step => ({ run: () => allOrNothing(plans, unlink, link), undo: () => Promise.all(plans.map(link)) });
    await inOrder([removing(first), adding(toLink), removing(toUnlink.filter((planId) => !first.includes(planId)))]);
    return toLink.length > 0 || toUnlink.length > 0;
  }

  /**
   * AWS does not document which error refuses a key already in another plan of the stage
   * (ConflictException or BadRequestException are the plausible ones): when such a refusal
   * meets another plan of the stage holding the key (a concurrent change), say so.
   */
  private async explainRefusedLink(error: unknown, keyId: string, usagePlanId: string): Promise<never> {
    if (!['ConflictException', 'BadRequestException'].includes((error as Error).name)) throw error;
    let holder: string | undefined;
    try {
      const [linked, stages = []] = await Promise.all([this.linkedUsagePlans(keyId), this.usagePlans.stagesOf(usagePlanId)]);
      holder = [...linked].find(([planId, held]) => planId !== usagePlanId && held.some((stage) => stages.some((own) => sameStage(own, stage))))?.[0];
    } catch {
      // Only an explanation: when it cannot be had, the refusal itself is reported.
    }
    if (holder) throw stageTaken(holder, usagePlanId, 'another change of this app may be running: retry the request.');
    throw error;
  }

  private mayLink(usagePlanId: string) {
    return this.linkableUsagePlanIds === undefined || this.linkableUsagePlanIds.includes(usagePlanId);
  }

  private async exists(keyId: string): Promise<boolean> {
    try {
      await this.apiGateway.send(new GetApiKeyCommand({ apiKey: keyId, includeValue: false }));
      return true;
    } catch (error) {
      if (await this.isGone(error, keyId)) return false;
      throw error;
    }
  }

  async whereabouts(credentialId: string): Promise<{ ours: boolean; appKey?: string } | undefined> {
    try {
      const { tags } = await this.apiGateway.send(new GetApiKeyCommand({ apiKey: credentialId, includeValue: false }));
      const appKey = tags?.[appKeyTag];
      return { ours: isOwnKey(tags, this.deploymentId), ...(appKey ? { appKey } : {}) };
    } catch (error) {
      if (await this.isGone(error, credentialId)) return undefined;
      throw error;
    }
  }

  async revoke(credentialId: string): Promise<void> {
    try {
      await this.apiGateway.send(new DeleteApiKeyCommand({ apiKey: credentialId }));
    } catch (error) {
      if (!(await this.isGone(error, credentialId))) throw error;
    }
  }

  /**
   * Whether a failed call on a key means the key no longer exists. The roles may read and delete
   * only keys tagged as the webhook's, and a key that no longer exists has no tags: AWS documents
   * neither whether API Gateway then answers 404 or IAM 403, so a refusal is checked against the
   * list of the webhook's keys (a key that lost its tag is still listed, and stays an error).
   */
  private async isGone(error: unknown, keyId: string): Promise<boolean> {
    if (isNotFound(error)) return true;
    if (!isAccessDenied(error)) return false;
    for await (const page of paginateGetApiKeys({ client: this.apiGateway, pageSize: 500 }, { nameQuery: resourceNamePrefix })) {
      if (page.items?.some((key) => key.id === keyId)) return false;
    }
    return true;
  }

  async removeLeftovers(app: AppIdentity, keep: readonly string[] = []): Promise<number> {
    const name = resourceName(app);
    const leftovers: string[] = [];
    // nameQuery is a prefix match over pages: keep exact names carrying our tags only (another stack's key may share the name).
    for await (const page of paginateGetApiKeys({ client: this.apiGateway, pageSize: 500 }, { nameQuery: name })) {
      for (const key of page.items ?? []) {
        if (key.name === name && this.isAppKey(key.tags, app) && key.id && !keep.includes(key.id)) leftovers.push(key.id);
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

  /** The plans the key is in, with the API stages each serves. */
  private async linkedUsagePlans(keyId: string): Promise<Map<string, ApiStage[]>> {
    const plans = new Map<string, ApiStage[]>();
    try {
      for await (const page of paginateGetUsagePlans({ client: this.apiGateway, pageSize: 500 }, { keyId })) {
        for (const plan of page.items ?? []) {
          if (plan.id)
            plans.set(
              plan.id,
              (plan.apiStages ?? []).flatMap(({ apiId, stage }) => (apiId && stage ? [{ apiId, stage }] : [])),
            );
        }
      }
    } catch (error) {
      // A deleted key may be answered NotFound here; exists() reports it.
      if (!isNotFound(error)) throw error;
    }
    return plans;
  }
}
