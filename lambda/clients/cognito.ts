import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { AdaptiveRetryStrategy } from '@smithy/core/retry';
import { recordAttemptOutcomes } from './attempt-outcomes.ts';
import { fencedByTurns } from './turns.ts';
import { awsClientSettings, notRetrying } from './retry-settings.ts';

/**
 * Cognito's LimitExceededException is a quota (1,000 app clients per pool), not a rate, but the
 * SDK classifies the name as throttling everywhere: this client alone gives up on it at once.
 */
export const isCognitoQuotaError = (error: unknown) => (error as Error)?.name === 'LimitExceededException';

export const cognito = new CognitoIdentityProviderClient({
  ...awsClientSettings,
  retryStrategy: notRetrying(isCognitoQuotaError, new AdaptiveRetryStrategy(awsClientSettings.maxAttempts)),
});
cognito.middlewareStack.use(recordAttemptOutcomes);
cognito.middlewareStack.use(fencedByTurns);
