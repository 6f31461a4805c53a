import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { gatewayErrors } from '#contract/gateway-responses';
import { jsonAccessLogFormat } from './access-log-format.ts';
import { manageExecutionLogs } from './execution-logs.ts';
import type { WebhookAuthentication } from './webhook-authentication.ts';
import { routes, type WebhookFunctions, webhookRoutes } from './webhook-functions.ts';

/** Request rate limits of the webhook's stage. */
export interface WebhookThrottling {
  /** Steady requests per second. */
  readonly rateLimit: number;
  /** Requests at once. */
  readonly burstLimit: number;
}

export interface WebhookApiProps {
  readonly functions: WebhookFunctions;
  readonly authentication: WebhookAuthentication;
  readonly stageName: string;
  readonly throttling: WebhookThrottling;
  readonly logRetention: logs.RetentionDays;
  readonly detailedMetrics: boolean;
}

/** The webhook's REST API and the log group of its access logs. */
export interface WebhookApi {
  readonly api: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;
}

/** The contract's error body, as a gateway-response template. */
const errorTemplate = (body: { code: string; message: string }) => JSON.stringify(body);

/**
 * The regional REST API (created in `scope`, the webhook): one method per route, each calling
 * its function, behind the authentication's checks, with access and execution logs and the
 * contract's error body on every answer API Gateway gives itself.
 */
export const addWebhookApi = (scope: Construct, props: WebhookApiProps): WebhookApi => {
  const { authentication, stageName, throttling, logRetention } = props;
  const accessLogGroup = new logs.LogGroup(scope, 'AccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
  const api = new apigateway.RestApi(scope, 'Api', {
    restApiName: `${Stack.of(scope).stackName}-webhook`,
    description: 'Credentials webhook of the Sensedia Developer Portal',
    endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
    // The account's CloudWatch role is set once, for both APIs (configureApiGatewayAccount).
    cloudWatchRole: false,
    deployOptions: {
      stageName,
      throttlingRateLimit: throttling.rateLimit,
      throttlingBurstLimit: throttling.burstLimit,
      accessLogDestination: new apigateway.LogGroupLogDestination(accessLogGroup),
      accessLogFormat: jsonAccessLogFormat(),
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      // Never log bodies: createCredentials answers with the secret.
      dataTraceEnabled: false,
      metricsEnabled: props.detailedMetrics,
      tracingEnabled: true,
    },
  });
  manageExecutionLogs(scope, api, stageName, logRetention);
  // RestApi adds an unnamed Endpoint output to the stack; outputs are the stack's choice.
  api.node.tryRemoveChild('Endpoint');

  // Bodies have no model: the functions validate them and answer with the contract's details.
  // Parameters are checked: a request without an Authorization header never reaches a function.
  const validator = api.addRequestValidator('RequestValidator', { validateRequestBody: true, validateRequestParameters: true });
  const v1 = api.root.addResource('v1');
  for (const route of webhookRoutes) {
    const definition = routes[route];
    v1.addResource(definition.path).addMethod(
      definition.method,
      new apigateway.LambdaIntegration(props.functions[route], { allowTestInvoke: false }),
      {
        operationName: definition.path,
        requestValidator: validator,
        ...authentication.methodOptions,
      },
    );
  }
  addGatewayResponses(api, authentication);
  authentication.protect(api);
  return { api, accessLogGroup };
};

/** Answers API Gateway gives itself, in the contract's error shape. */
const addGatewayResponses = (api: apigateway.RestApi, authentication: WebhookAuthentication) => {
  const { ResponseType } = apigateway;
  const json = (body: string) => ({ 'application/json': body });
  const challenge = { 'WWW-Authenticate': `'${authentication.challenge}'` };
  const unauthorized = json(errorTemplate({ code: 'UNAUTHORIZED', message: authentication.unauthorizedMessage }));
  const responses: Record<string, apigateway.GatewayResponseOptions> = {
    Unauthorized: { type: ResponseType.UNAUTHORIZED, statusCode: '401', responseHeaders: challenge, templates: unauthorized },
    // The only required parameter is the Authorization header: missing it means missing credentials.
    MissingCredentials: { type: ResponseType.BAD_REQUEST_PARAMETERS, statusCode: '401', responseHeaders: challenge, templates: unauthorized },
    AccessDenied: {
      type: ResponseType.ACCESS_DENIED,
      statusCode: '403',
      templates: json(errorTemplate(gatewayErrors.accessDenied)),
    },
    // API Gateway answers an unknown route or method with 403 "Missing Authentication Token".
    NotFound: {
      type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
      statusCode: '404',
      templates: json(errorTemplate(gatewayErrors.notFound(Object.values(routes).map((r) => `/v1/${r.path}`)))),
    },
    Throttled: {
      type: ResponseType.THROTTLED,
      statusCode: '429',
      responseHeaders: { 'Retry-After': "'1'" },
      templates: json(errorTemplate(gatewayErrors.throttled)),
    },
    // AWS documents that this one is not customisable yet: over 10 MB, API Gateway answers its own text.
    RequestTooLarge: {
      type: ResponseType.REQUEST_TOO_LARGE,
      statusCode: '413',
      templates: json(errorTemplate(gatewayErrors.payloadTooLarge)),
    },
    // Fixed messages: API Gateway's own text is not for the portal (the contract promises no AWS error text).
    Default4xx: {
      type: ResponseType.DEFAULT_4XX,
      templates: json(errorTemplate(gatewayErrors.refused)),
    },
    // Integration time-outs (504) land here too.
    Default5xx: {
      type: ResponseType.DEFAULT_5XX,
      templates: json(errorTemplate(gatewayErrors.failure)),
    },
  };
  for (const [id, options] of Object.entries({ ...responses, ...authentication.gatewayResponses })) api.addGatewayResponse(id, options);
};

/**
 * Sets the Region's API Gateway CloudWatch role (in `scope`, the webhook), without which stages
 * cannot log, before the stages of `apis` deploy. The AWS-managed policy is the one made for this
 * account-wide role: other APIs of the account log through it too, so it is neither narrowed nor
 * deleted with the stack.
 */
export const configureApiGatewayAccount = (scope: Construct, apis: readonly apigateway.RestApi[]) => {
  const role = new iam.Role(scope, 'ApiGatewayCloudWatchRole', {
    assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
  });
  // Kept by a teardown (other APIs log through it), not by a first deployment that rolls back.
  role.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
  const account = new apigateway.CfnAccount(scope, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
  account.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
  for (const api of apis) api.deploymentStage.node.addDependency(account);
};
