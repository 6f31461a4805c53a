import { noContent } from '#http/responses';
import { bodilessRoute } from '#http/webhook-route';

/** Reaching this handler proves the function runs, its configuration is valid and the Basic-auth secret is readable. */
export const handler = bodilessRoute(async () => noContent());
