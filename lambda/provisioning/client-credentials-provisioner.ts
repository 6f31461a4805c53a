import {
  type CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  DescribeUserPoolClientCommand,
  paginateListUserPoolClients,
  UpdateUserPoolClientCommand,
  type UserPoolClientType,
} from '@aws-sdk/client-cognito-identity-provider';
import { functionDefaults } from '#commons/defaults';
import { conflict, unprocessable } from '#contract/errors';
import { createOrLeftovers, earlierAttemptMayHaveSucceeded, isNotFound, requireAnswer } from './aws-failures.ts';
import {
  type AppIdentity,
  appClientName,
  type CredentialRef,
  appKeyOfResourceName,
  type Grant,
  type IssuedCredential,
  leftoversOnFailure,
  type Placement,
  type QuotaTaken,
  type Provisioner,
  isOwnAppClientName,
  resourceName,
  undoThenRethrow,
} from './provisioner.ts';

export interface ClientCredentialsSettings {
  userPoolId: string;
  /** The user-pool domain's token endpoint, told to the developer. */
  tokenUrl: string;
  accessTokenValidityMinutes: number;
  /** The stack's name, marked on every app client it makes: another deployment's clients in a shared pool are never its own. */
  deploymentId?: string;
}

export const tokenEndpointAuthMethods = ['client_secret_basic', 'client_secret_post'] as const;

/** Cognito's limit on `AllowedOAuthScopes` of one app client (its quota "scopes per app client"). */
const maxScopesPerClient = 50;

/** More scopes than one app client may hold is the request's doing (too many APIs at once): 422, before any write. */
const expectScopesFit = (scopes: readonly string[]) => {
  if (scopes.length > maxScopesPerClient) {
    throw unprocessable(
      'TOO_MANY_SCOPES',
      `The requested APIs need ${scopes.length} OAuth scopes; one app client can hold at most ${maxScopesPerClient}.`,
    );
  }
};

const sameScopes = (a: readonly string[] = [], b: readonly string[] = []) =>
  a.length === b.length && [...a].sort().every((scope, index) => scope === [...b].sort()[index]);

/** Cognito user-pool app clients for the OAuth 2.0 client_credentials grant. */
export class ClientCredentialsProvisioner implements Provisioner {
  readonly credentialType = 'CLIENT_CREDENTIALS' as const;

  private readonly deploymentId: string;

  constructor(
    private readonly cognito: CognitoIdentityProviderClient,
    private readonly settings: ClientCredentialsSettings,
  ) {
    this.deploymentId = settings.deploymentId ?? functionDefaults.deploymentId;
  }

  async create(app: AppIdentity, grant: Grant): Promise<IssuedCredential> {
    expectScopesFit(grant.scopes);
    const created = await createOrLeftovers(
      this.cognito.send(
        new CreateUserPoolClientCommand({ ...this.configuration(appClientName(app, this.deploymentId), grant.scopes), GenerateSecret: true }),
      ),
    );
    // AWS made a client: from here on a failure deletes it, or keeps the claim for the next call to.
    const client = created.UserPoolClient ?? {};
    const clientId = await leftoversOnFailure(() => requireAnswer(client.ClientId, 'CreateUserPoolClient', 'a client id'));
    // An earlier attempt that timed out or met a 5xx may have made a client whose answer was lost.
    if (earlierAttemptMayHaveSucceeded(created)) await leftoversOnFailure(() => this.removeLeftovers(app, [clientId]));
    try {
      return this.issued(client);
    } catch (failure) {
      return undoThenRethrow(failure, () => this.revoke({ credentialId: clientId }));
    }
  }

  async reveal({ credentialId }: CredentialRef): Promise<IssuedCredential | undefined> {
    const client = await this.describe(credentialId);
    return client && this.issued(client);
  }

  /** An app client lives in the one user pool, wherever the APIs it calls are: its placement is always none. */
  async regrant({ credentialId }: CredentialRef, desired: Grant): Promise<Placement> {
    const client = await this.describe(credentialId);
    if (!client) throw conflict('CREDENTIAL_GONE', 'The app client was deleted outside the webhook; revoke it and create new credentials.');
    if (sameScopes(client.AllowedOAuthScopes, desired.scopes)) return {};
    expectScopesFit(desired.scopes);
    // UpdateUserPoolClient resets every setting it is not given: always send the whole configuration.
    await this.cognito.send(
      new UpdateUserPoolClientCommand({ ...this.configuration(client.ClientName as string, desired.scopes), ClientId: credentialId }),
    );
    return {};
  }

  async whereabouts(credentialId: string): Promise<{ ours: boolean; appKey?: string } | undefined> {
    const client = await this.describe(credentialId);
    if (!client) return undefined;
    const name = client.ClientName ?? '';
    const appKey = appKeyOfResourceName(name);
    return { ours: isOwnAppClientName(name, this.deploymentId), ...(appKey ? { appKey } : {}) };
  }

  placesOf(): string[] {
    return [this.settings.userPoolId];
  }

  quotasTaken(grant: Grant): QuotaTaken[] {
    return [{ quota: 'scopesPerClient', place: this.settings.userPoolId, used: grant.scopes.length, limit: maxScopesPerClient }];
  }

  async revoke({ credentialId }: CredentialRef): Promise<void> {
    try {
      await this.cognito.send(new DeleteUserPoolClientCommand({ UserPoolId: this.settings.userPoolId, ClientId: credentialId }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async removeLeftovers(app: AppIdentity, keep: readonly string[] = []): Promise<number> {
    // Its name now, or as it was before names carried the deployment's mark: never another deployment's.
    const names = [appClientName(app, this.deploymentId), resourceName(app)];
    const leftovers: string[] = [];
    for await (const page of paginateListUserPoolClients({ client: this.cognito, pageSize: 60 }, { UserPoolId: this.settings.userPoolId })) {
      for (const client of page.UserPoolClients ?? []) {
        if (names.includes(client.ClientName ?? '') && client.ClientId && !keep.includes(client.ClientId)) leftovers.push(client.ClientId);
      }
    }
    await Promise.all(leftovers.map((clientId) => this.revoke({ credentialId: clientId })));
    return leftovers.length;
  }

  /** Everything an app client of ours is: machine-to-machine only, no user sign-in, short-lived access tokens. */
  private configuration(clientName: string, scopes: readonly string[]) {
    return {
      UserPoolId: this.settings.userPoolId,
      ClientName: clientName,
      AllowedOAuthFlows: ['client_credentials' as const],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: [...scopes],
      // Only refresh (which client credentials never yields): no password, SRP or custom sign-in.
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH' as const],
      SupportedIdentityProviders: ['COGNITO'],
      AccessTokenValidity: this.settings.accessTokenValidityMinutes,
      TokenValidityUnits: { AccessToken: 'minutes' as const },
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED' as const,
    };
  }

  private async describe(clientId: string): Promise<UserPoolClientType | undefined> {
    try {
      const { UserPoolClient } = await this.cognito.send(
        new DescribeUserPoolClientCommand({ UserPoolId: this.settings.userPoolId, ClientId: clientId }),
      );
      return UserPoolClient;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private issued(client: UserPoolClientType): IssuedCredential {
    return {
      credentialId: requireAnswer(client.ClientId, 'Cognito', 'a client id'),
      secret: requireAnswer(client.ClientSecret, 'Cognito', 'a client secret'),
      customCredentials: {
        tokenUrl: this.settings.tokenUrl,
        scopes: [...(client.AllowedOAuthScopes ?? [])].sort(),
        grantType: 'client_credentials',
        tokenEndpointAuthMethods: [...tokenEndpointAuthMethods],
      },
    };
  }
}
