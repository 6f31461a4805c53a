import { RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * The log group API Gateway writes a stage's execution logs to
 * (`API-Gateway-Execution-Logs_<api id>/<stage>`), made by the stack before the stage so
 * that API Gateway does not create it itself, without retention and outside the stack.
 */
export const manageExecutionLogs = (scope: Construct, api: apigateway.RestApi, stageName: string, retention: logs.RetentionDays) => {
  const group = new logs.LogGroup(scope, 'ExecutionLogs', {
    // The stage's name as configured: its Ref would make the stage depend on itself.
    logGroupName: `API-Gateway-Execution-Logs_${api.restApiId}/${stageName}`,
    retention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  api.deploymentStage.node.addDependency(group);
  return group;
};
