import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { jsonAccessLogFormat } from './access-log-format.ts';
import { manageExecutionLogs } from './execution-logs.ts';
import { webhookDefaults } from './webhook-defaults.ts';

export interface SampleProtectedApiProps {
  /**
   * The user pool whose access tokens GET /payments accepts.
   *
   * @default - no GET /payments
   */
  readonly userPool?: cognito.IUserPool;

  /**
   * The OAuth scope GET /payments requires, as `resource-server-id/scope-name`.
   * Required with `userPool`: without scopes the authorizer expects an ID token,
   * which the client-credentials grant never yields.
   *
   * @default - no GET /payments
   */
  readonly paymentsScope?: string;

  /**
   * The stage the API is deployed to.
   *
   * @default 'prod'
   */
  readonly stageName?: string;

  /**
   * How long the access logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A small API protected the two ways the webhook hands out credentials, so a fresh
 * deployment can prove that what the portal received works: GET /orders needs an
 * API key linked to `usagePlan`, GET /payments needs an access token with a scope.
 * Both answer from mock integrations.
 */
export class SampleProtectedApi extends Construct {
  /** The sample REST API. */
  public readonly api: apigateway.RestApi;

  /** The usage plan an API key must be linked to for GET /orders; its id is what the portal names. */
  public readonly usagePlan: apigateway.UsagePlan;

  constructor(scope: Construct, id: string, props: SampleProtectedApiProps = {}) {
    super(scope, id);
    if ((props.userPool === undefined) !== (props.paymentsScope === undefined)) {
      throw new Error('SampleProtectedApi: userPool and paymentsScope go together (GET /payments needs both)');
    }

    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const stageName = props.stageName ?? webhookDefaults.stageName;
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention, removalPolicy: RemovalPolicy.DESTROY });

    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-sample`,
      description: 'Sample API protected by the credentials the portal webhook issues',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      deployOptions: {
        stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: jsonAccessLogFormat(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
      },
    });

    this.api.node.tryRemoveChild('Endpoint');
    manageExecutionLogs(this, this.api, stageName, retention);

    this.api.root
      .addResource('orders')
      .addMethod('GET', mockJson({ orders: [{ id: 'o-1001', total: 42.5 }], apiKeyId: '$context.identity.apiKeyId' }), {
        apiKeyRequired: true,
        methodResponses: [{ statusCode: '200' }],
      });

    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      description: 'Sample plan the portal links API keys to',
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      throttle: { rateLimit: 10, burstLimit: 20 },
      quota: { limit: 10_000, period: apigateway.Period.DAY },
    });

    if (props.userPool && props.paymentsScope) {
      const authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [props.userPool] });
      this.api.root
        .addResource('payments')
        .addMethod('GET', mockJson({ payments: [{ id: 'p-2001', amount: 10 }], clientId: '$context.authorizer.claims.client_id' }), {
          authorizer,
          authorizationType: apigateway.AuthorizationType.COGNITO,
          authorizationScopes: [props.paymentsScope],
          methodResponses: [{ statusCode: '200' }],
        });
    }
  }
}

/** A mock integration answering 200 with this JSON (values may hold `$context` variables). */
const mockJson = (body: Record<string, unknown>) =>
  new apigateway.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': JSON.stringify(body) } }],
  });
