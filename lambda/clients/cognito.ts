import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { awsClientSettings } from './retry-settings.ts';

export const cognito = new CognitoIdentityProviderClient(awsClientSettings);
