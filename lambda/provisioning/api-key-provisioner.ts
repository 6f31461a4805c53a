import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeyCommand,
  paginateGetApiKeys,
  paginateGetUsagePlans,
} from '@aws-sdk/client-api-gateway';
import { conflict, unprocessable } from '#contract/errors';
import { isNotFound } from './aws-failures.ts';
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

/** API Gateway API keys, reaching APIs through usage plans. */
export class ApiKeyProvisioner implements Provisioner {
  readonly credentialType = 'API_KEY' as const;

  constructor(private readonly apiGateway: APIGatewayClient) {}

  async create(app: AppIdentity, grant: Grant): Promise<IssuedCredential> {
    const key = await this.apiGateway.send(
      new CreateApiKeyCommand({
        name: resourceName(app),
        description: `Portal app "${app.appName}" of ${app.developer}. Managed by ${managedByValue}: change it through the portal.`.slice(0, 1000),
        enabled: true,
        tags: { [managedByTag]: managedByValue, [appKeyTag]: tagValue(app.appKey), developer: tagValue(app.developer) },
      }),
    );
    const keyId = key.id as string;
    const links = await Promise.allSettled(grant.usagePlanIds.map((planId) => this.link(keyId, planId)));
    const linkFailure = links.find((result) => result.status === 'rejected');
    // Deleting the key drops every link it got, so one delete undoes them all.
    if (linkFailure) await undoThenRethrow(linkFailure.reason, () => this.revoke(keyId));
    return { credentialId: keyId, secret: key.value as string };
  }

  async reveal(credentialId: string): Promise<IssuedCredential | undefined> {
    try {
      const key = await this.apiGateway.send(new GetApiKeyCommand({ apiKey: credentialId, includeValue: true }));
      return { credentialId, secret: key.value as string };
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
    const toUnlink = [...linked].filter((planId) => !wanted.has(planId));
    await allOrNothing(toLink, (planId) => this.link(credentialId, planId), (planId) => this.unlink(credentialId, planId));
    await allOrNothing(toUnlink, (planId) => this.unlink(credentialId, planId), (planId) => this.link(credentialId, planId));
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

  async removeLeftovers(app: AppIdentity): Promise<number> {
    const name = resourceName(app);
    const leftovers: string[] = [];
    // nameQuery is a prefix match over pages: keep exact names carrying this app's tag only.
    for await (const page of paginateGetApiKeys({ client: this.apiGateway, pageSize: 500 }, { nameQuery: name })) {
      for (const key of page.items ?? []) {
        if (key.name === name && key.tags?.[appKeyTag] === tagValue(app.appKey) && key.id) leftovers.push(key.id);
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
      // Already linked is what we wanted.
      if ((error as Error).name !== 'ConflictException') throw error;
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
    for await (const page of paginateGetUsagePlans({ client: this.apiGateway, pageSize: 500 }, { keyId })) {
      for (const plan of page.items ?? []) if (plan.id) plans.add(plan.id);
    }
    return plans;
  }
}
