import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AuthenticationConfig, AuthenticationScheme } from '#commons/config';
import { ambiguousCredentials, insufficientScope, unauthorized, unavailable } from '#contract/errors';
import { logger } from '#commons/powertools';
import type { AcceptedCredentials } from '../accepted-credentials.ts';
import { matchesAny } from '../basic-auth.ts';
import type { AccessTokenOutcome } from './access-tokens.ts';
import { type BearerError, challengeHeader, type ChallengeSettings, unauthorizedMessage } from './challenges.ts';
import { matchingSecretId } from './named-secrets.ts';
import { presentedCredential } from './presented-credential.ts';

export interface AuthenticationOptions {
  /** The deployment's schemes and their settings. */
  config: AuthenticationConfig;
  /** Realm announced in every challenge. */
  realm: string;
  /** The credentials the secret holds right now; expected to cache. */
  acceptedCredentials: () => Promise<AcceptedCredentials>;
  /** Verifies an OAuth access token; required when `jwt` is enabled. */
  verifyAccessToken?: (token: string) => Promise<AccessTokenOutcome>;
}

/** Who called, as the log names them: never a secret or a token. */
export interface Authenticated {
  scheme: AuthenticationScheme;
  principal: string;
}

const authenticatedEvents = new WeakMap<APIGatewayProxyEvent, Authenticated>();

/** Who the authentication middleware let this request in as; undefined before it ran or when it refused. */
export const authenticatedCaller = (event: APIGatewayProxyEvent): Authenticated | undefined => authenticatedEvents.get(event);

class Refusal {
  constructor(
    readonly scheme: string,
    readonly reason: string,
    readonly bearerError?: BearerError,
  ) {}
}

/**
 * Authenticates every request with one of the deployment's schemes before any later
 * middleware or the handler runs: a refused request answers 401 (403 for a token without
 * the scope; 400 for two credentials where bearer tokens are accepted) with a challenge per
 * enabled scheme, and never reaches provisioning. The
 * request's log lines name the scheme and the principal, or why it was refused.
 */
export const authentication = (options: AuthenticationOptions): MiddlewareObj<APIGatewayProxyEvent> => {
  const { config } = options;
  const enabled = (scheme: AuthenticationScheme) => config.schemes.includes(scheme);
  if (enabled('jwt') && !options.verifyAccessToken) throw new Error('jwt authentication needs an access-token verifier');
  const challenge: ChallengeSettings = {
    schemes: config.schemes,
    realm: options.realm,
    apiKeyHeader: config.apiKeyHeader,
    scope: config.accessTokens?.scope ?? config.cognitoScope,
  };

  const viaGateway = (event: APIGatewayProxyEvent): Authenticated | Refusal => {
    // API Gateway writes requestContext after its own check; a caller cannot set it.
    if (enabled('cognito')) {
      const claims = (event.requestContext?.authorizer as { claims?: Record<string, unknown> } | null | undefined)?.claims;
      const principal = claims?.client_id ?? claims?.sub;
      return typeof principal === 'string' ? { scheme: 'cognito', principal } : new Refusal('cognito', 'no Cognito authorizer claims');
    }
    const identity = event.requestContext?.identity;
    const principal = identity?.userArn ?? identity?.caller;
    return typeof principal === 'string' ? { scheme: 'iam', principal } : new Refusal('iam', 'no IAM caller identity');
  };

  const bearerToken = async (token: string): Promise<Authenticated | Refusal> => {
    if (enabled('bearer')) {
      const id = matchingSecretId(token, (await options.acceptedCredentials()).bearerTokens);
      if (id !== undefined) return { scheme: 'bearer', principal: id };
    }
    if (!enabled('jwt') || !options.verifyAccessToken) return new Refusal('bearer', 'unknown token', 'invalid_token');
    const outcome = await options.verifyAccessToken(token);
    if (!outcome.valid) {
      if ('unavailable' in outcome) {
        logger.error("Cannot fetch the issuer's keys", { reason: outcome.reason });
        throw unavailable('AUTH_UNAVAILABLE', 'The webhook cannot check credentials right now; retry shortly.');
      }
      return new Refusal('jwt', outcome.reason, 'invalid_token');
    }
    const scope = challenge.scope;
    if (!outcome.scopes.includes(scope)) {
      logger.appendKeys({ authentication: { scheme: 'jwt', principal: outcome.principal, refused: 'missing scope' } });
      throw insufficientScope(challengeHeader(challenge, 'insufficient_scope'));
    }
    return { scheme: 'jwt', principal: outcome.principal };
  };

  const inFunction = async (event: APIGatewayProxyEvent): Promise<Authenticated | Refusal> => {
    const presented = presentedCredential(event, enabled('apiKey') ? config.apiKeyHeader : undefined);
    switch (presented.kind) {
      case 'none':
        return new Refusal('none', 'no credentials');
      case 'ambiguous':
        return new Refusal('ambiguous', 'more than one credential', 'invalid_request');
      case 'malformed':
        return new Refusal(presented.scheme, 'malformed', presented.scheme === 'bearer' ? 'invalid_token' : undefined);
      case 'basic': {
        if (!enabled('basic')) return new Refusal('basic', 'scheme not enabled');
        const accepted = await options.acceptedCredentials();
        return matchesAny(presented.credential, accepted.basic)
          ? { scheme: 'basic', principal: presented.credential.username }
          : new Refusal('basic', 'wrong pair');
      }
      case 'bearer':
        return enabled('bearer') || enabled('jwt') ? bearerToken(presented.token) : new Refusal('bearer', 'scheme not enabled');
      case 'apiKey': {
        const id = matchingSecretId(presented.key, (await options.acceptedCredentials()).apiKeys);
        return id === undefined ? new Refusal('apiKey', 'unknown key') : { scheme: 'apiKey', principal: id };
      }
    }
  };

  const onlyViaGateway = enabled('cognito') || enabled('iam');
  return {
    before: async ({ event }) => {
      const outcome = onlyViaGateway ? viaGateway(event) : await inFunction(event);
      if (outcome instanceof Refusal) {
        logger.appendKeys({ authentication: { scheme: outcome.scheme, refused: outcome.reason } });
        // A bearer error is announced only where bearer tokens are accepted (RFC 6750 §3.1); invalid_request is a 400.
        const bearerError = outcome.bearerError && (enabled('bearer') || enabled('jwt')) ? outcome.bearerError : undefined;
        if (bearerError === 'invalid_request') throw ambiguousCredentials(challengeHeader(challenge, bearerError));
        throw unauthorized(challengeHeader(challenge, bearerError), unauthorizedMessage(challenge));
      }
      logger.appendKeys({ authentication: outcome });
      authenticatedEvents.set(event, outcome);
    },
  };
};
