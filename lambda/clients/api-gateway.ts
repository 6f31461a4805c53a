import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { recordAttemptOutcomes } from './attempt-outcomes.ts';
import { fencedByTurns } from './turns.ts';
import { awsClientSettings } from './retry-settings.ts';

export const apiGateway = new APIGatewayClient(awsClientSettings);
apiGateway.middlewareStack.use(recordAttemptOutcomes);
apiGateway.middlewareStack.use(fencedByTurns);
