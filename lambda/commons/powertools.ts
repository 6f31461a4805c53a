import { Logger } from '@aws-lambda-powertools/logger';

/** One configured logger per container; the service name comes from POWERTOOLS_SERVICE_NAME when set. */
export const logger = new Logger({ serviceName: 'portal-credentials-webhook' });
