import { readFileSync } from 'node:fs';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { PortalCredentialsWebhookStack } from '../../../infra/portal-credentials-webhook-stack.ts';
import { parseSettings, SETTINGS_CONTEXT_KEY } from '../../../infra/settings.ts';
import { type AccessTokenIssuer, WebhookAuthentication } from '../../../infra/webhook-authentication.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, Record<string, unknown>>;
};
const defaults = () => structuredClone(cdkJson.context[SETTINGS_CONTEXT_KEY]) as Record<string, unknown>;

/** A stack from cdk.json's settings with this authentication, functions not bundled (the template is what is checked). */
const synth = (authentication: Record<string, unknown>) => {
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new PortalCredentialsWebhookStack(app, 'Webhook', {
    settings: parseSettings({ ...defaults(), authentication }),
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const template = Template.fromStack(stack);
  const logicalId = (construct: IConstruct) => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
  const findings = new AwsSolutionsChecks(undefined, { verbose: true })
    .validateScope(stack)
    .violations.flatMap((violation) => violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`));
  return {
    stack,
    template,
    logicalId,
    findings,
    resources: template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
  };
};

const webhookMethods = (resources: ReturnType<typeof synth>['resources'], apiId: string) =>
  Object.values(resources).filter(
    (resource) => resource.Type === 'AWS::ApiGateway::Method' && JSON.stringify(resource.Properties.RestApiId) === JSON.stringify({ Ref: apiId }),
  );

const gatewayResponse = (resources: ReturnType<typeof synth>['resources'], type: string) =>
  Object.values(resources).find((resource) => resource.Type === 'AWS::ApiGateway::GatewayResponse' && resource.Properties.ResponseType === type)
    ?.Properties;

describe('authentication in the function: Basic, bearer tokens, an API-key header and OAuth access tokens at once', () => {
  const { stack, resources, logicalId, findings } = synth({
    schemes: ['basic', 'bearer', 'apiKey', 'jwt'],
    apiKeyHeader: 'X-Portal-Key',
    accessTokens: {
      issuer: 'https://example.okta.com/oauth2/default',
      jwksUrl: 'https://example.okta.com/oauth2/default/v1/keys',
      audiences: ['api://webhook'],
    },
  });

  it('tells every function its schemes, header, issuer, audience and scope', () => {
    // Act
    const variables = (resources[logicalId(stack.webhook.functions.create)]!.Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;

    // Assess
    expect(variables).toMatchObject({
      AUTH_SCHEMES: 'basic,bearer,apiKey,jwt',
      API_KEY_HEADER: 'X-Portal-Key',
      JWT_ISSUER: 'https://example.okta.com/oauth2/default',
      JWT_JWKS_URL: 'https://example.okta.com/oauth2/default/v1/keys',
      JWT_AUDIENCES: 'api://webhook',
      JWT_SCOPE: 'webhook/invoke',
      JWT_JWKS_CACHE_SECONDS: '600',
      JWT_MAX_TOKEN_AGE_SECONDS: '86400',
    });
  });

  it('lets requests without an Authorization header through to the function (an API key comes in its own header)', () => {
    // Act
    const methods = webhookMethods(resources, logicalId(stack.webhook.api));

    // Assess
    expect(methods).toHaveLength(4);
    for (const method of methods) {
      expect(method.Properties.AuthorizationType).toBe('NONE');
      expect(method.Properties.RequestParameters).toBeUndefined();
    }
  });

  it("challenges for every scheme in API Gateway's own 401", () => {
    // Act
    const unauthorized = gatewayResponse(resources, 'UNAUTHORIZED');

    // Assess
    expect((unauthorized!.ResponseParameters as Record<string, string>)['gatewayresponse.header.WWW-Authenticate']).toBe(
      `'Basic realm="portal-credentials-webhook", charset="UTF-8", Bearer realm="portal-credentials-webhook", scope="webhook/invoke", ApiKey realm="portal-credentials-webhook", header="X-Portal-Key"'`,
    );
  });

  it('reports no cdk-nag finding', () => {
    expect(findings).toEqual([]);
  });
});

describe('authentication by API Gateway with Cognito access tokens', () => {
  const { stack, template, resources, logicalId, findings } = synth({ schemes: ['cognito'] });

  it('requires the webhook/invoke scope on every route through a Cognito authorizer of the stack pool', () => {
    // Act
    const methods = webhookMethods(resources, logicalId(stack.webhook.api));

    // Assess
    expect(methods).toHaveLength(4);
    for (const method of methods) {
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizationScopes: ['webhook/invoke'],
        AuthorizerId: { Ref: expect.stringMatching(/Authorizer/) },
        RequestParameters: { 'method.request.header.Authorization': true },
      });
    }
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      ProviderARNs: [{ 'Fn::GetAtt': [logicalId(stack.webhook.userPool!), 'Arn'] }],
    });
  });

  it('creates the webhook resource server and a caller client that can only fetch webhook/invoke tokens with its secret', () => {
    // Assess
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'webhook',
      Scopes: [Match.objectLike({ ScopeName: 'invoke' })],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'webhook-caller',
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: [{ 'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('WebhookResourceServer') }, '/invoke']] }],
    });
    template.hasOutput('WebhookCallerClientId', {});
  });

  it('tells the functions the scheme and the scope, so their challenge names it', () => {
    // Act
    const variables = (resources[logicalId(stack.webhook.functions.health)]!.Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;

    // Assess
    expect(variables).toMatchObject({ AUTH_SCHEMES: 'cognito', JWT_SCOPE: 'webhook/invoke' });
  });

  it('reports no cdk-nag finding', () => {
    expect(findings).toEqual([]);
  });
});

describe('authentication by API Gateway with AWS Signature Version 4', () => {
  const { stack, template, resources, logicalId, findings } = synth({
    schemes: ['iam'],
    callerPrincipal: 'arn:aws:iam::210987654321:role/portal-caller',
    sourceIpAllowList: ['203.0.113.0/24', '2001:db8::/32'],
  });
  const roleId = logicalId(stack.webhook.authentication.callerRole!);

  it('requires IAM authorization on every route', () => {
    // Act
    const methods = webhookMethods(resources, logicalId(stack.webhook.api));
    const served = stack.webhook.api.methods.map((method) => `${method.httpMethod} ${method.resource.path}`).sort();

    // Assess: the four routes exist, so the check below cannot pass on none.
    expect(served).toEqual(['GET /v1/health', 'POST /v1/createCredentials', 'POST /v1/revokeCredentials', 'POST /v1/updateCredentials']);
    expect(methods).toHaveLength(4);
    expect(methods.map((method) => method.Properties.AuthorizationType)).toEqual(Array(4).fill('AWS_IAM'));
  });

  it('creates a caller role the named principal assumes, allowed to invoke exactly the four routes', () => {
    // Act
    const role = resources[roleId]?.Properties;
    const policy = Object.values(resources).find(
      (resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
    );
    const statements = (policy!.Properties.PolicyDocument as { Statement: { Action: string; Resource: unknown[] }[] }).Statement;

    // Assess
    expect(JSON.stringify(role?.AssumeRolePolicyDocument)).toContain('arn:aws:iam::210987654321:role/portal-caller');
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toBe('execute-api:Invoke');
    const stage = { Ref: logicalId(stack.webhook.api.deploymentStage) };
    for (const arn of statements[0]?.Resource ?? []) expect(JSON.stringify(arn)).toContain(JSON.stringify(stage));
    const paths = statements[0]?.Resource.map((arn) => JSON.stringify(arn).match(/\/(GET|POST)\/v1\/\w+/)?.[0]).sort();
    expect(paths).toEqual(['/GET/v1/health', '/POST/v1/createCredentials', '/POST/v1/revokeCredentials', '/POST/v1/updateCredentials']);
  });

  it('lets only the caller role in, and only from the allowed addresses', () => {
    // Act
    const policy = resources[logicalId(stack.webhook.api)]?.Properties.Policy as { Statement: Record<string, unknown>[] };

    // Assess
    expect(policy.Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: { 'Fn::GetAtt': [roleId, 'Arn'] } }, Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
        Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:db8::/32'] } },
      },
    ]);
  });

  it('answers unsigned, badly signed and expired requests with the contract 401 and an AWS4-HMAC-SHA256 challenge', () => {
    for (const type of ['MISSING_AUTHENTICATION_TOKEN', 'INVALID_SIGNATURE', 'EXPIRED_TOKEN']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: '401',
        ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': `'AWS4-HMAC-SHA256 realm="portal-credentials-webhook"'` },
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"UNAUTHORIZED"') },
      });
    }
  });

  it('reports no cdk-nag finding', () => {
    expect(findings).toEqual([]);
  });
});

describe('a source-address allow-list with function-side schemes', () => {
  const { stack, resources, logicalId } = synth({ sourceIpAllowList: ['198.51.100.7'] });

  it('allows anyone through the resource policy but denies every other address', () => {
    // Act
    const policy = resources[logicalId(stack.webhook.api)]?.Properties.Policy as { Statement: Record<string, unknown>[] };

    // Assess
    expect(policy.Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
        Condition: { NotIpAddress: { 'aws:SourceIp': ['198.51.100.7'] } },
      },
    ]);
  });
});

describe('authentication settings', () => {
  it.each([
    ['an unknown scheme', { schemes: ['digest'] }, /authentication\.schemes\.0/],
    ['cognito with another scheme', { schemes: ['cognito', 'basic'] }, /authentication\.schemes: cognito and iam are checked by API Gateway/],
    ['jwt without an issuer', { schemes: ['jwt'] }, /authentication\.accessTokens: is required when schemes include jwt/],
    [
      'an issuer without audiences or clients',
      { schemes: ['jwt'], accessTokens: { issuer: 'https://issuer.example.com' } },
      /authentication\.accessTokens\.audiences/,
    ],
    [
      'an issuer that is not a URL',
      { schemes: ['jwt'], accessTokens: { issuer: 'issuer', audiences: ['x'] } },
      /authentication\.accessTokens\.issuer/,
    ],
    ['Authorization as the API-key header', { schemes: ['apiKey'], apiKeyHeader: 'authorization' }, /authentication\.apiKeyHeader/],
    ['a scope with a space', { scope: 'webhook invoke' }, /authentication\.scope/],
    ['a malformed address', { sourceIpAllowList: ['203.0.113.0/33'] }, /authentication\.sourceIpAllowList\.0/],
    ['a caller principal without iam', { callerPrincipal: '210987654321' }, /authentication\.callerPrincipal/],
    ['a misspelt field', { scheme: ['basic'] }, /Unrecognized key.*scheme/],
    [
      'a plain-http JWKS URL',
      { schemes: ['jwt'], accessTokens: { issuer: 'https://issuer.example.com', jwksUrl: 'http://issuer.example.com/jwks', audiences: ['x'] } },
      /authentication\.accessTokens\.jwksUrl: must use https/,
    ],
    [
      'a plain-http issuer the JWKS URL defaults from',
      { schemes: ['jwt'], accessTokens: { issuer: 'http://issuer.example.com', audiences: ['x'] } },
      /authentication\.accessTokens\.issuer: must use https, or set jwksUrl/,
    ],
    [
      'a plain-http JWKS URL on loopback, which a deployed function cannot reach',
      { schemes: ['jwt'], accessTokens: { issuer: 'https://issuer.example.com', jwksUrl: 'http://127.0.0.1:4000/jwks', audiences: ['x'] } },
      /authentication\.accessTokens\.jwksUrl: must use https/,
    ],
    [
      'a maximum token age under a minute',
      { schemes: ['jwt'], accessTokens: { issuer: 'https://issuer.example.com', audiences: ['x'], maxTokenAgeSeconds: 30 } },
      /authentication\.accessTokens\.maxTokenAgeSeconds/,
    ],
    [
      'a maximum token age over 30 days',
      { schemes: ['jwt'], accessTokens: { issuer: 'https://issuer.example.com', audiences: ['x'], maxTokenAgeSeconds: 2_592_001 } },
      /authentication\.accessTokens\.maxTokenAgeSeconds/,
    ],
  ])('fails the synth naming the field for %s', (_problem, authentication, message) => {
    expect(() => parseSettings({ ...defaults(), authentication })).toThrow(message);
  });

  it('refuses cognito when the stack has no user pool', () => {
    expect(() =>
      parseSettings({
        ...defaults(),
        credentialPolicy: { defaultType: 'API_KEY' },
        clientCredentials: undefined,
        authentication: { schemes: ['cognito'] },
      }),
    ).toThrow(/authentication\.schemes: cognito uses the stack's user pool/);
  });
});

describe('the construct on its own', () => {
  const construct = (accessTokens: AccessTokenIssuer) => () =>
    new WebhookAuthentication(new Stack(new App(), 'Construct'), 'Authentication', { realm: 'webhook', schemes: ['jwt'], accessTokens });

  it.each([
    ['a plain-http JWKS URL', { issuer: 'https://issuer.example.com', jwksUrl: 'http://issuer.example.com/jwks', audiences: ['x'] }],
    ['a plain-http issuer the JWKS URL defaults from', { issuer: 'http://issuer.example.com', audiences: ['x'] }],
  ])('refuses %s at synth', (_name, accessTokens) => {
    expect(construct(accessTokens)).toThrow(/JWKS URL must use https: the functions would fetch signing keys without TLS/);
  });

  it.each([
    ['30 seconds', Duration.seconds(30)],
    ['31 days', Duration.days(31)],
  ])('refuses a maximum token age of %s at synth, which the functions would refuse', (_name, maxTokenAge) => {
    expect(construct({ issuer: 'https://issuer.example.com', audiences: ['x'], maxTokenAge })).toThrow(/maxTokenAge must be 1 minute to 30 days/);
  });

  it('tells the functions the maximum token age it is given', () => {
    // Act
    const { environment } = construct({ issuer: 'https://issuer.example.com', audiences: ['x'], maxTokenAge: Duration.hours(2) })();

    // Assess
    expect(environment.JWT_MAX_TOKEN_AGE_SECONDS).toBe('7200');
  });
});
