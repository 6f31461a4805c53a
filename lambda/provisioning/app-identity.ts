import { createHash } from 'node:crypto';
import type { AppIdentity } from './provisioner.ts';

/**
 * The registry key of an app: its portal slug, or, for portals that send none, a
 * stable hash of the lower-cased developer email and the app name.
 */
export const appKeyOf = (app: { appSlug?: string; appName?: string; developer?: string }): string | undefined => {
  if (app.appSlug !== undefined) return app.appSlug;
  if (app.appName === undefined || app.developer === undefined) return undefined;
  const digest = createHash('sha256').update(`${app.developer.toLowerCase()}\n${app.appName}`).digest('hex');
  return `sha256-${digest.slice(0, 32)}`;
};

export const appIdentityOf = (request: { appSlug?: string; appName: string; developer: string }): AppIdentity => ({
  appKey: appKeyOf(request) as string,
  appName: request.appName,
  developer: request.developer,
  ...(request.appSlug !== undefined ? { appSlug: request.appSlug } : {}),
});
