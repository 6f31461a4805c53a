import { apiGateway } from '#clients/api-gateway';
import { dynamodb } from '#clients/dynamodb';
import { settings } from '#commons/settings';
import { cognito } from '#clients/cognito';
import { ApiKeyProvisioner } from './api-key-provisioner.ts';
import { ClientCredentialsProvisioner } from './client-credentials-provisioner.ts';
import { CredentialPolicy } from './credential-policy.ts';
import { CredentialsService } from './credentials-service.ts';
import { Registry } from './registry.ts';

/** The service the handlers call, wired once per container. */
export const credentials = new CredentialsService({
  registry: new Registry(dynamodb, settings.registryTableName),
  policy: new CredentialPolicy(settings.credentialPolicy),
  provisioners: [
    new ApiKeyProvisioner(apiGateway),
    ...(settings.cognito ? [new ClientCredentialsProvisioner(cognito, settings.cognito)] : []),
  ],
  leaseMs: settings.claim.leaseMs,
  waitMs: settings.claim.waitMs,
});
