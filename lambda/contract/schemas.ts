import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini ships without messages; the portal's operator reads them in error details.
z.config(en());

/**
 * The portal's contract as zod schemas: the runtime source of truth for the
 * shapes that `openapi/webhook.yaml` documents. Objects are loose on purpose:
 * the portal has added fields before, so unknown fields pass through unread.
 * (zod/mini: the same validation as classic zod at a tenth of the bundle.)
 */

const notEmpty = 'must not be empty';
const nonEmpty = z.string().check(z.trim(), z.minLength(1, notEmpty));
/** API Gateway and Cognito identifiers: letters, digits and a few separators. */
const awsId = z
  .string()
  .check(z.minLength(1, notEmpty), z.maxLength(128), z.regex(/^[A-Za-z0-9_-]+$/, 'must be an identifier (letters, digits, "-" or "_")'));

export const credentialTypes = ['API_KEY', 'CLIENT_CREDENTIALS'] as const;
export const CredentialType = z.enum(credentialTypes);
export type CredentialType = z.infer<typeof CredentialType>;

export const UsagePlanRef = z.looseObject({ id: awsId });

export const ApiRef = z.looseObject({
  id: awsId,
  usagePlans: z._default(z.array(UsagePlanRef).check(z.maxLength(10, 'an API key can join at most 10 usage plans')), []),
});
export type ApiRef = z.infer<typeof ApiRef>;

const CustomCredentials = z.record(z.string(), z.unknown());

/** Each API once, and each usage plan once per API. */
const noDuplicates = z.superRefine((apis: ApiRef[], ctx) => {
  const seenApis = new Set<string>();
  apis.forEach((api, index) => {
    if (seenApis.has(api.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `API ${api.id} is listed twice` });
    seenApis.add(api.id);
    const seenPlans = new Set<string>();
    api.usagePlans.forEach((plan, planIndex) => {
      if (seenPlans.has(plan.id))
        ctx.addIssue({ code: 'custom', path: [index, 'usagePlans', planIndex, 'id'], message: `usage plan ${plan.id} is listed twice` });
      seenPlans.add(plan.id);
    });
  });
});

/**
 * Slug-less apps are keyed `sha256-` and 32 hex digits (app-identity.ts): a slug of that form
 * could name another developer's app, so it is reserved, whatever its letter case.
 */
export const reservedSlugForm = /^sha256-[0-9a-f]{32}$/i;

const appFields = {
  // The limit applies to the name as sent, as the document states it; the name is trimmed after.
  appName: z.string().check(z.maxLength(256), z.trim(), z.minLength(1, notEmpty)),
  appSlug: z.optional(
    z.string().check(
      z.minLength(1, notEmpty),
      z.maxLength(128),
      z.regex(/^[A-Za-z0-9._-]+$/, 'must contain only letters, digits, ".", "-" or "_"'),
      z.refine((slug) => !reservedSlugForm.test(slug), 'must not have the form sha256-<32 hex digits>, which is reserved for apps without a slug'),
    ),
  ),
  developer: z.email('must be an email address').check(z.maxLength(254)),
  apis: z.array(ApiRef).check(z.minLength(1, 'must name at least one API'), z.maxLength(50), noDuplicates),
  customCredentials: z.optional(CustomCredentials),
};

export const CreateCredentialsRequest = z.looseObject(appFields);
export type CreateCredentialsRequest = z.infer<typeof CreateCredentialsRequest>;

/** Which credential an update or revoke is about: its id, or else the app it was made for. */
const credentialRef = {
  credentialType: CredentialType,
  apiKeyId: z.optional(awsId),
  clientId: z.optional(awsId),
};

type CredentialRef = { credentialType: CredentialType; apiKeyId?: string; clientId?: string };

const idMatchesType = z.superRefine((value: CredentialRef, ctx) => {
  if (value.credentialType === 'API_KEY' && value.clientId !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'clientId does not go with credentialType API_KEY' });
  }
  if (value.credentialType === 'CLIENT_CREDENTIALS' && value.apiKeyId !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['apiKeyId'], message: 'apiKeyId does not go with credentialType CLIENT_CREDENTIALS' });
  }
});

export const UpdateCredentialsRequest = z.looseObject({ ...appFields, ...credentialRef }).check(idMatchesType);
export type UpdateCredentialsRequest = z.infer<typeof UpdateCredentialsRequest>;

const namesACredential = z.superRefine((value: CredentialRef & { appSlug?: string; appName?: string; developer?: string }, ctx) => {
  const id = value.credentialType === 'API_KEY' ? value.apiKeyId : value.clientId;
  if (id === undefined && value.appSlug === undefined && (value.appName === undefined || value.developer === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: `name the credential: ${value.credentialType === 'API_KEY' ? 'apiKeyId' : 'clientId'}, appSlug, or appName with developer`,
    });
  }
});

export const RevokeCredentialsRequest = z
  .looseObject({
    ...credentialRef,
    appName: z.optional(appFields.appName),
    appSlug: appFields.appSlug,
    developer: z.optional(appFields.developer),
    apis: z.optional(z.array(z.unknown())),
    customCredentials: z.optional(CustomCredentials),
  })
  .check(idMatchesType, namesACredential);
export type RevokeCredentialsRequest = z.infer<typeof RevokeCredentialsRequest>;

export const CreateCredentialsResponse = z.discriminatedUnion('credentialType', [
  z.object({
    credentialType: z.literal('API_KEY'),
    apiKeyId: nonEmpty,
    apiKey: nonEmpty,
    customCredentials: z.optional(CustomCredentials),
  }),
  z.object({
    credentialType: z.literal('CLIENT_CREDENTIALS'),
    clientId: nonEmpty,
    clientSecret: nonEmpty,
    customCredentials: z.optional(CustomCredentials),
  }),
]);
export type CreateCredentialsResponse = z.infer<typeof CreateCredentialsResponse>;

export const ErrorBody = z.object({
  code: z.string().check(z.regex(/^[A-Z][A-Z0-9_]*$/)),
  message: nonEmpty,
  details: z.optional(z.array(z.object({ path: z.string(), problem: z.string() }))),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
