import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { timedOut } from '#contract/errors';
import { logger, metrics } from '#commons/powertools';
import { settings } from '#commons/settings';
import { secretBackedCredentials } from './accepted-credentials.ts';
import { accessTokenVerifier } from './authentication/access-tokens.ts';
import { authentication } from './authentication/authenticate.ts';
import { withCaller } from '#history/caller';
import { errorResponder } from './error-responder.ts';
import { callerOf } from './history-caller.ts';
import { jsonBody, type ParsedBodyEvent } from './json-body.ts';
import { requestOutcome } from './request-outcome.ts';

const acceptedCredentials = secretBackedCredentials(settings.basicAuth.secretId, settings.basicAuth.cacheSeconds);
// One verifier per container: its JWKS cache outlives requests.
const { accessTokens } = settings.authentication;
const verifyAccessToken = accessTokens ? accessTokenVerifier(accessTokens) : undefined;

/**
 * A second before the function's own timeout, middy abandons the handler so that the
 * portal still gets the contract's body (a Lambda timeout would reach it as a bare 502),
 * and aborts the signal it gave the handler: the work it abandons stops acting on AWS.
 */
const timeoutGuard = {
  timeoutEarlyInMillis: 1_000,
  timeoutEarlyResponse: () => {
    throw timedOut();
  },
};

const edge = () =>
  middy<APIGatewayProxyEvent, APIGatewayProxyResult>(timeoutGuard)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(requestOutcome())
    .use(errorResponder())
    // Before the normalizer: it merges headers whose names differ only in case, which could hide a second Authorization.
    .use(
      authentication({
        config: settings.authentication,
        realm: settings.basicAuth.realm,
        acceptedCredentials,
        ...(verifyAccessToken ? { verifyAccessToken } : {}),
      }),
    )
    .use(httpHeaderNormalizer());

/** What middy tells a handler of its invocation: `signal` aborts once the time-out guard has answered. */
export interface HandlerInvocation {
  signal: AbortSignal;
}

/** A route that takes a JSON body: the handler runs only for an authenticated caller and a valid body. */
export const jsonRoute = <S extends z.ZodMiniType>(
  schema: S,
  handler: (event: ParsedBodyEvent<z.infer<S>>, invocation: HandlerInvocation, context: Context) => Promise<APIGatewayProxyResult>,
) =>
  edge()
    .use(jsonBody(schema))
    // The history names who asked for each change.
    .handler((event, context, invocation) =>
      withCaller(callerOf(event), () => handler(event as unknown as ParsedBodyEvent<z.infer<S>>, invocation, context)),
    );

/** A route without a body. */
export const bodilessRoute = (handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>) => edge().handler(handler);
