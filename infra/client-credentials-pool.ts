import { Annotations, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import {
  defaultDomainPrefix,
  MAX_RESOURCE_SERVERS_PER_POOL,
  MAX_SCOPES_PER_RESOURCE_SERVER,
  type ResourceServerPlan,
  resourceServersFor,
} from './cognito-names.ts';

/** Where client credentials live and how their tokens are fetched. */
export interface ClientCredentialsOptions {
  /**
   * The user pool the app clients are created in: for example the pool a torn-down stack
   * retained. The stack adds the domain (unless `existingDomain`) and the resource servers
   * the scopes name (unless `existingResourceServers`).
   *
   * @default - a new user pool with no users, kept when the stack is deleted
   */
  readonly userPool?: cognito.IUserPool;

  /**
   * The prefix of the pool's `<prefix>.auth.<region>.amazoncognito.com` domain,
   * whose `/oauth2/token` endpoint issues the tokens. Unique per Region across all accounts.
   * A pool has one such domain: changing the prefix of a deployed stack fails (CloudFormation
   * creates the new domain before the old one goes) unless the old domain is deleted first.
   *
   * @default - the stack name and the account id, e.g. 'portalcredentialswebhook-123456789012'
   */
  readonly domainPrefix?: string;

  /**
   * Whether `userPool` already has the `domainPrefix` domain, so it must not be created.
   *
   * @default false
   */
  readonly existingDomain?: boolean;

  /**
   * Whether `userPool` already has the resource servers the scopes name (a redeploy onto a
   * retained pool), so they must not be created.
   *
   * @default false
   */
  readonly existingResourceServers?: boolean;

  /**
   * How long the issued clients' access tokens are valid (5 minutes to 1 day).
   *
   * @default Duration.minutes(60)
   */
  readonly accessTokenValidity?: Duration;

  /**
   * The pool's quota of app clients (Cognito's "App clients per user pool", adjustable), as Service
   * Quotas shows it applied to the account: the webhook refuses a create at it, and alarms at 80 %.
   *
   * @default 1000
   */
  readonly appClientsQuota?: number;
}

/** The pool client credentials are made in, and the token URL developers fetch tokens from. */
export interface ClientCredentialsPool {
  readonly userPool: cognito.IUserPool;
  readonly tokenUrl: string;
}

/**
 * The user pool (created in `scope`, the webhook, unless one is given), its domain and the
 * resource servers the credential policy's scopes name.
 */
export const addClientCredentialsPool = (scope: Construct, options: ClientCredentialsOptions, scopes: readonly string[]): ClientCredentialsPool => {
  const stack = Stack.of(scope);
  const userPool = options.userPool ?? createUserPool(scope);
  const domainPrefix = options.domainPrefix ?? defaultDomainPrefix(stack.stackName, stack.account);
  let tokenUrl: string;
  if (options.existingDomain) {
    tokenUrl = `https://${domainPrefix}.auth.${stack.region}.amazoncognito.com/oauth2/token`;
  } else {
    const domain = userPool.addDomain('Domain', { cognitoDomain: { domainPrefix } });
    // Every issued client's token URL: it stays with the pool.
    domain.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    tokenUrl = `${domain.baseUrl()}/oauth2/token`;
  }
  const servers = resourceServersFor([...scopes]);
  expectResourceServersFit(scope, servers);
  if (!options.existingResourceServers) addResourceServers(userPool, servers);
  return { userPool, tokenUrl };
};

const createUserPool = (scope: Construct): cognito.UserPool =>
  new cognito.UserPool(scope, 'UserPool', {
    // Machine-to-machine only: no one signs up or signs in.
    selfSignUpEnabled: false,
    accountRecovery: cognito.AccountRecovery.NONE,
    // M2M tokens are billed separately; nothing of the paid plans serves app clients.
    featurePlan: cognito.FeaturePlan.LITE,
    // No user has a password; a strict policy costs nothing should one ever be added.
    passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
    deletionProtection: true,
    // Deleting the pool would revoke every issued client at once; a first deployment that
    // rolls back holds no client, so it goes.
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });

/**
 * Cognito's quotas on what the scopes need are known at synth: 25 resource servers per pool (Cognito's
 * default quota, which `resourceServersFor` holds to) and 100 scopes per resource server (its API's limit).
 * Past one, synth refuses; from 80 % of one, synth warns, while there is room to plan.
 */
const expectResourceServersFit = (scope: Construct, servers: readonly ResourceServerPlan[]) => {
  const gauges = [
    { what: "resource servers in the user pool (Cognito's default quota)", used: servers.length, limit: MAX_RESOURCE_SERVERS_PER_POOL },
    ...servers.map((server) => ({
      what: `scopes of resource server ${server.identifier} (Cognito's limit)`,
      used: server.scopeNames.length,
      limit: MAX_SCOPES_PER_RESOURCE_SERVER,
    })),
  ];
  for (const { what, used, limit } of gauges) {
    if (used >= limit * 0.8) Annotations.of(scope).addWarningV2('portal-credentials:capacity', `The scopes take ${used} of the ${limit} ${what}`);
  }
};

/** The resource servers the scopes name, kept with the pool: issued clients' tokens carry their scopes. */
const addResourceServers = (userPool: cognito.IUserPool, servers: readonly ResourceServerPlan[]) => {
  for (const { id, identifier, name, scopeNames } of servers) {
    const server = userPool.addResourceServer(id, {
      identifier,
      userPoolResourceServerName: name,
      scopes: scopeNames.map(
        (scopeName) =>
          new cognito.ResourceServerScope({ scopeName, scopeDescription: `${scopeName} on ${identifier}, granted to apps by the portal` }),
      ),
    });
    server.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
  }
};
