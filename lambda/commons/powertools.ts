import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { metricsNamespace, serviceName } from './service.ts';

/**
 * One configured logger and metrics instance per container, as Powertools recommends. Where
 * invocations run concurrently in one process (Lambda Managed Instances, the local bridge), they
 * keep each invocation's context apart through the Lambda runtime's InvokeStore.
 */
export const logger = new Logger({ serviceName });

export const metrics = new Metrics({ serviceName, namespace: metricsNamespace });
