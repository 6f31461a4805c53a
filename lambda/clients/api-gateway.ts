import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { recordAttemptOutcomes } from './attempt-outcomes.ts';
import { awsClientSettings } from './retry-settings.ts';

export const apiGateway = new APIGatewayClient(awsClientSettings);
apiGateway.middlewareStack.use(recordAttemptOutcomes);
