import type { AuthenticationScheme } from '#commons/config';

/** What the challenges of a deployment name: its schemes, realm, API-key header and required scope. */
export interface ChallengeSettings {
  schemes: readonly AuthenticationScheme[];
  realm: string;
  apiKeyHeader: string;
  scope: string;
}

/** RFC 6750 §3.1 error codes: a request with more than one credential, or a bearer token that was presented. */
export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * The `WWW-Authenticate` value: one challenge per enabled scheme, comma-separated as
 * RFC 9110 §11.6.1 allows (API Gateway's gateway responses can set one value only).
 * Bearer tokens, static or OAuth, share one `Bearer` challenge.
 */
export const challengeHeader = (settings: ChallengeSettings, bearerError?: BearerError): string => {
  const realm = `realm="${settings.realm}"`;
  const has = (scheme: AuthenticationScheme) => settings.schemes.includes(scheme);
  const challenges: string[] = [];
  if (has('basic')) challenges.push(`Basic ${realm}, charset="UTF-8"`);
  if (has('bearer') || has('jwt') || has('cognito')) {
    const scope = has('jwt') || has('cognito') ? `, scope="${settings.scope}"` : '';
    challenges.push(`Bearer ${realm}${bearerError ? `, error="${bearerError}"` : ''}${scope}`);
  }
  if (has('apiKey')) challenges.push(`ApiKey ${realm}, header="${settings.apiKeyHeader}"`);
  if (has('iam')) challenges.push(`AWS4-HMAC-SHA256 ${realm}`);
  return challenges.join(', ');
};

const describe: Record<AuthenticationScheme, (settings: ChallengeSettings) => string> = {
  basic: () => 'HTTP Basic credentials',
  bearer: () => 'a bearer token',
  jwt: (settings) => `an OAuth 2.0 access token with the scope ${settings.scope}`,
  apiKey: (settings) => `an API key in the ${settings.apiKeyHeader} header`,
  cognito: (settings) => `an access token from the webhook's user pool with the scope ${settings.scope}`,
  iam: () => 'a request signed with AWS Signature Version 4',
};

/** The 401 body's message: what the caller must present, never why its credential failed. */
export const unauthorizedMessage = (settings: ChallengeSettings): string => {
  if (settings.schemes.length === 1 && settings.schemes[0] === 'basic') return 'Valid HTTP Basic credentials are required.';
  const wanted = settings.schemes.map((scheme) => describe[scheme](settings));
  return `Valid credentials are required: ${wanted.length > 1 ? `${wanted.slice(0, -1).join(', ')} or ${wanted.at(-1)}` : wanted[0]}.`;
};
