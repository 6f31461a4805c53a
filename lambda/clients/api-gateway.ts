import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { awsClientSettings } from './retry-settings.ts';

export const apiGateway = new APIGatewayClient(awsClientSettings);
