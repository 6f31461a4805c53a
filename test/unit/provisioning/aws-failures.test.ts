import { describe, expect, it } from 'vitest';
import type { WebhookError } from '#contract/errors';
import { earlierAttemptMayHaveSucceeded, mayHaveSucceeded, toWebhookError } from '#provisioning/aws-failures';
import { awsError } from '../../helpers/aws-mocks.ts';

const answer = (error: unknown) => toWebhookError(error, 'creating the credential') as WebhookError;

describe('toWebhookError', () => {
  it("answers API Gateway's LimitExceededException, its rate limit (HTTP 429), with 429 and Retry-After", () => {
    // Act
    const answered = answer(awsError('LimitExceededException', 429));

    // Assess
    expect(answered).toMatchObject({ statusCode: 429, code: 'AWS_THROTTLED', headers: { 'Retry-After': '5' } });
  });

  it("answers Cognito's LimitExceededException, a quota (HTTP 400), with 503 for the platform team", () => {
    // Act
    const answered = answer(awsError('LimitExceededException', 400));

    // Assess
    expect(answered).toMatchObject({ statusCode: 503, code: 'QUOTA_EXCEEDED' });
  });

  it.each([
    ['ScopeDoesNotExistException', /CREDENTIAL_POLICY scopes/],
    ['InvalidOAuthFlowException', /USER_POOL_ID/],
    ['InvalidParameterException', /USER_POOL_ID, ACCESS_TOKEN_VALIDITY_MINUTES or the CREDENTIAL_POLICY scopes/],
  ])('answers Cognito refusing the configuration (%s) as a deployment problem naming the setting, not a retry', (name, setting) => {
    // Act
    const answered = answer(awsError(name, 400));

    // Assess
    expect(answered).toMatchObject({ statusCode: 500, code: 'DEPLOYMENT_MISCONFIGURED' });
    expect(answered.message).toMatch(setting);
    expect(answered.message).not.toMatch(/retry the request/i);
    expect(answered.message).not.toContain('123456789012');
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND'])(
    'answers a network failure the SDK gave up on (%s) with 502, as AWS failing, not as a bug',
    (code) => {
      // Act
      const answered = answer(Object.assign(new Error(`connect ${code} cognito-idp.eu-west-1.amazonaws.com`), { code }));

      // Assess
      expect(answered).toMatchObject({ statusCode: 502, code: 'AWS_FAILURE' });
    },
  );
});

describe('what a create that failed or was retried may have left', () => {
  it('without a record of its attempts, judges a failure by its last answer: no answer or a 5xx may hide a success, a 4xx does not', () => {
    // Act + Assess
    expect(mayHaveSucceeded(awsError('InternalFailure', 500))).toBe(true);
    expect(mayHaveSucceeded(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(mayHaveSucceeded(awsError('TooManyRequestsException', 429))).toBe(false);
    expect(mayHaveSucceeded(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false);
  });

  it('without a record of its attempts, suspects a lost success behind any retried create', () => {
    // Act + Assess
    expect(earlierAttemptMayHaveSucceeded({ $metadata: { attempts: 2 } })).toBe(true);
    expect(earlierAttemptMayHaveSucceeded({ $metadata: { attempts: 1 } })).toBe(false);
  });
});
