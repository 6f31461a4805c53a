import { z } from 'zod';

/**
 * The portal's contract as zod schemas: the runtime source of truth for the
 * shapes that `openapi/webhook.yaml` documents. Objects are loose on purpose:
 * the portal has added fields before, so unknown fields pass through unread.
 */

const nonEmpty = z.string().trim().min(1, 'must not be empty');
/** API Gateway and Cognito identifiers: letters, digits and a few separators. */
const awsId = z.string().min(1, 'must not be empty').max(128).regex(/^[A-Za-z0-9_-]+$/, 'must be an identifier (letters, digits, "-" or "_")');

export const credentialTypes = ['API_KEY', 'CLIENT_CREDENTIALS'] as const;
export const CredentialType = z.enum(credentialTypes);
export type CredentialType = z.infer<typeof CredentialType>;

export const UsagePlanRef = z.looseObject({ id: awsId });

export const ApiRef = z.looseObject({
  id: awsId,
  usagePlans: z.array(UsagePlanRef).max(10, 'an API key can join at most 10 usage plans').default([]),
});
export type ApiRef = z.infer<typeof ApiRef>;

const CustomCredentials = z.record(z.string(), z.unknown());

const appFields = {
  appName: nonEmpty.max(256),
  appSlug: z.string().min(1, 'must not be empty').max(128).regex(/^[A-Za-z0-9._-]+$/, 'must contain only letters, digits, ".", "-" or "_"').optional(),
  developer: z.email('must be an email address').max(254),
  apis: z
    .array(ApiRef)
    .min(1, 'must name at least one API')
    .max(50)
    .superRefine((apis, ctx) => {
      const seenApis = new Set<string>();
      apis.forEach((api, index) => {
        if (seenApis.has(api.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `API ${api.id} is listed twice` });
        seenApis.add(api.id);
        const seenPlans = new Set<string>();
        api.usagePlans.forEach((plan, planIndex) => {
          if (seenPlans.has(plan.id)) {
            ctx.addIssue({ code: 'custom', path: [index, 'usagePlans', planIndex, 'id'], message: `usage plan ${plan.id} is listed twice` });
          }
          seenPlans.add(plan.id);
        });
      });
    }),
  customCredentials: CustomCredentials.optional(),
};

export const CreateCredentialsRequest = z.looseObject(appFields);
export type CreateCredentialsRequest = z.infer<typeof CreateCredentialsRequest>;

/** Which credential an update or revoke is about: its id, or else the app it was made for. */
const credentialRef = {
  credentialType: CredentialType,
  apiKeyId: awsId.optional(),
  clientId: awsId.optional(),
};

const idMatchesType = (value: { credentialType: CredentialType; apiKeyId?: string; clientId?: string }, ctx: z.RefinementCtx) => {
  if (value.credentialType === 'API_KEY' && value.clientId !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'clientId does not go with credentialType API_KEY' });
  }
  if (value.credentialType === 'CLIENT_CREDENTIALS' && value.apiKeyId !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['apiKeyId'], message: 'apiKeyId does not go with credentialType CLIENT_CREDENTIALS' });
  }
};

export const UpdateCredentialsRequest = z.looseObject({ ...appFields, ...credentialRef }).superRefine(idMatchesType);
export type UpdateCredentialsRequest = z.infer<typeof UpdateCredentialsRequest>;

export const RevokeCredentialsRequest = z
  .looseObject({
    ...credentialRef,
    appName: appFields.appName.optional(),
    appSlug: appFields.appSlug,
    developer: appFields.developer.optional(),
    apis: z.array(z.unknown()).optional(),
    customCredentials: CustomCredentials.optional(),
  })
  .superRefine(idMatchesType)
  .superRefine((value, ctx) => {
    const id = value.credentialType === 'API_KEY' ? value.apiKeyId : value.clientId;
    if (id === undefined && value.appSlug === undefined && (value.appName === undefined || value.developer === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `name the credential: ${value.credentialType === 'API_KEY' ? 'apiKeyId' : 'clientId'}, appSlug, or appName with developer`,
      });
    }
  });
export type RevokeCredentialsRequest = z.infer<typeof RevokeCredentialsRequest>;

export const CreateCredentialsResponse = z.discriminatedUnion('credentialType', [
  z.object({
    credentialType: z.literal('API_KEY'),
    apiKeyId: nonEmpty,
    apiKey: nonEmpty,
    customCredentials: CustomCredentials.optional(),
  }),
  z.object({
    credentialType: z.literal('CLIENT_CREDENTIALS'),
    clientId: nonEmpty,
    clientSecret: nonEmpty,
    customCredentials: CustomCredentials.optional(),
  }),
]);
export type CreateCredentialsResponse = z.infer<typeof CreateCredentialsResponse>;

export const ErrorBody = z.object({
  code: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  message: nonEmpty,
  details: z.array(z.object({ path: z.string(), problem: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
