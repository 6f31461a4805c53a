import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type AuthenticationScheme, defaultJwksUrl, jwksUrlProblem, maxJwtMaxTokenAgeSeconds } from '#commons/config';
import { functionDefaults } from '#commons/defaults';
import { serviceName } from '#commons/service';
import { challengeHeader, type ChallengeSettings, unauthorizedMessage } from '#http/authentication/challenges';
import { webhookDefaults } from './webhook-defaults.ts';

/** Access tokens of an issuer other than the stack's pool (Okta, Auth0, Keycloak, Entra ID), verified by the functions. */
export interface AccessTokenIssuer {
  /** The tokens' `iss`, exactly. */
  readonly issuer: string;
  /**
   * The issuer's JWKS.
   *
   * @default `${issuer}/.well-known/jwks.json`
   */
  readonly jwksUrl?: string;
  /** Accepted `aud` values. At least one of `audiences` and `clientIds` is required. @default [] */
  readonly audiences?: string[];
  /** Accepted client ids (`client_id`, `azp`, `cid` or `appid`). @default [] */
  readonly clientIds?: string[];
  /** How long a function keeps the JWKS before fetching it again (an unknown key fetches it at once). @default Duration.minutes(10) */
  readonly jwksCacheTtl?: Duration;
  /** The longest a token may live (`exp` − `iat`); a token valid for longer is refused. @default Duration.days(1) */
  readonly maxTokenAge?: Duration;
}

export interface WebhookAuthenticationOptions {
  /**
   * The schemes callers may use. `basic`, `bearer`, `apiKey` and `jwt` are checked by the
   * functions and combine freely; `cognito` and `iam` are checked by API Gateway and each
   * must be the only one (a method has one authorization type).
   *
   * @default ['basic']
   */
  readonly schemes?: AuthenticationScheme[];
  /** The header `apiKey` callers send their key in. @default 'X-Webhook-Key' */
  readonly apiKeyHeader?: string;
  /** Whose access tokens `jwt` accepts. Required with `jwt`. */
  readonly accessTokens?: AccessTokenIssuer;
  /**
   * The scope an access token must hold (`jwt` and `cognito`). With `cognito` the stack
   * creates its resource server in the pool.
   *
   * @default 'webhook/invoke'
   */
  readonly scope?: string;
  /** Lifetime of the caller client's access tokens (`cognito`). @default Duration.minutes(60) */
  readonly callerAccessTokenValidity?: Duration;
  /** Who may assume the caller role (`iam`). @default - any principal of this account its own IAM policy allows */
  readonly callerPrincipal?: iam.IPrincipal;
  /** Source addresses or CIDR blocks allowed to call the webhook at all (resource policy). @default - any address */
  readonly sourceIpAllowList?: string[];
}

export interface WebhookAuthenticationProps extends WebhookAuthenticationOptions {
  /** Realm of every challenge. */
  readonly realm: string;
  /** The stack's user pool; required with `cognito`. */
  readonly userPool?: cognito.IUserPool;
}

const errorBody = (code: string, message: string) => ({ 'application/json': JSON.stringify({ code, message }) });

/**
 * How callers authenticate to the webhook API: the functions' settings for the schemes
 * they check, and what API Gateway checks itself: a Cognito authorizer requiring the
 * scope (with the caller's app client), IAM authorization (with the caller's role), and
 * a resource policy for a source-address allow-list.
 */
export class WebhookAuthentication extends Construct {
  /** The enabled schemes. */
  public readonly schemes: AuthenticationScheme[];
  /** What the functions need to know (only what differs from their defaults). */
  public readonly environment: Record<string, string> = {};
  /** Authorization and required parameters of every webhook method. */
  public readonly methodOptions: apigateway.MethodOptions;
  /** `WWW-Authenticate` of API Gateway's own 401 answers. */
  public readonly challenge: string;
  /** The 401 body's message. */
  public readonly unauthorizedMessage: string;
  /** Gateway responses the schemes add or change, by id. */
  public readonly gatewayResponses: Record<string, apigateway.GatewayResponseOptions> = {};
  /** The app client callers fetch tokens with (`cognito`). */
  public readonly callerClient?: cognito.UserPoolClient;
  /** The role callers sign requests with (`iam`). */
  public readonly callerRole?: iam.Role;

  private readonly sourceIpAllowList: string[];

  constructor(scope: Construct, id: string, props: WebhookAuthenticationProps) {
    super(scope, id);
    const schemes = props.schemes ?? [...functionDefaults.authSchemes];
    const has = (scheme: AuthenticationScheme) => schemes.includes(scheme);
    const apiKeyHeader = props.apiKeyHeader ?? functionDefaults.apiKeyHeader;
    const requiredScope = props.scope ?? functionDefaults.scope;
    this.schemes = schemes;
    this.sourceIpAllowList = props.sourceIpAllowList ?? [];

    if (schemes.length === 0 || new Set(schemes).size !== schemes.length)
      throw new Error('authentication.schemes must name each scheme once, at least one');
    if ((has('cognito') || has('iam')) && schemes.length > 1) {
      throw new Error(
        'authentication.schemes: cognito and iam are checked by API Gateway, one authorization type per method: each must be the only scheme',
      );
    }
    if (has('jwt') && !props.accessTokens) throw new Error('authentication.accessTokens is required with the jwt scheme');
    if (has('jwt') && !props.accessTokens?.audiences?.length && !props.accessTokens?.clientIds?.length) {
      throw new Error('authentication.accessTokens needs audiences or clientIds: otherwise any token of the issuer would do');
    }
    const tokens = has('jwt') ? props.accessTokens : undefined;
    const jwksProblem = tokens && jwksUrlProblem(tokens.jwksUrl ?? defaultJwksUrl(tokens.issuer), { allowLoopbackHttp: false });
    if (jwksProblem) throw new Error(`authentication.accessTokens: the JWKS URL ${jwksProblem}: the functions would fetch signing keys without TLS`);
    const maxTokenAge = tokens?.maxTokenAge?.toSeconds();
    if (maxTokenAge !== undefined && (maxTokenAge < 60 || maxTokenAge > maxJwtMaxTokenAgeSeconds)) {
      throw new Error(
        `authentication.accessTokens.maxTokenAge must be 1 minute to ${maxJwtMaxTokenAgeSeconds / 86_400} days: the functions refuse anything else at cold start`,
      );
    }

    const challengeSettings: ChallengeSettings = { schemes, realm: props.realm, apiKeyHeader, scope: requiredScope };
    this.challenge = challengeHeader(challengeSettings);
    this.unauthorizedMessage = unauthorizedMessage(challengeSettings);

    if (schemes.join() !== functionDefaults.authSchemes.join()) this.environment.AUTH_SCHEMES = schemes.join(',');
    if (has('apiKey')) this.environment.API_KEY_HEADER = apiKeyHeader;
    if (has('jwt') || has('cognito')) this.environment.JWT_SCOPE = requiredScope;
    if (tokens) {
      this.environment.JWT_ISSUER = tokens.issuer;
      if (tokens.jwksUrl) this.environment.JWT_JWKS_URL = tokens.jwksUrl;
      if (tokens.audiences?.length) this.environment.JWT_AUDIENCES = tokens.audiences.join(',');
      if (tokens.clientIds?.length) this.environment.JWT_CLIENT_IDS = tokens.clientIds.join(',');
      if (tokens.jwksCacheTtl) this.environment.JWT_JWKS_CACHE_SECONDS = String(tokens.jwksCacheTtl.toSeconds());
      if (tokens.maxTokenAge) this.environment.JWT_MAX_TOKEN_AGE_SECONDS = String(tokens.maxTokenAge.toSeconds());
    }

    // API Gateway refuses a request without the header every enabled scheme uses, before any function runs.
    const usesAuthorization = schemes.some((scheme) => scheme !== 'apiKey');
    const required = usesAuthorization && has('apiKey') ? [] : [usesAuthorization ? 'Authorization' : apiKeyHeader];
    const requestParameters = Object.fromEntries(required.map((header) => [`method.request.header.${header}`, true]));

    if (has('cognito')) {
      if (!props.userPool)
        throw new Error("authentication.schemes: cognito needs the stack's user pool (some API in credentialPolicy must use CLIENT_CREDENTIALS)");
      const slash = requiredScope.lastIndexOf('/');
      if (slash <= 0) throw new Error('authentication.scope must be "resource-server/scope" with cognito');
      const scopeName = requiredScope.slice(slash + 1);
      const invoke = new cognito.ResourceServerScope({ scopeName, scopeDescription: 'Call the portal credentials webhook' });
      const server = props.userPool.addResourceServer('WebhookResourceServer', {
        identifier: requiredScope.slice(0, slash),
        userPoolResourceServerName: serviceName,
        scopes: [invoke],
      });
      this.callerClient = new cognito.UserPoolClient(this, 'CallerClient', {
        userPool: props.userPool,
        userPoolClientName: 'webhook-caller',
        generateSecret: true,
        authFlows: {},
        oAuth: { flows: { clientCredentials: true }, scopes: [cognito.OAuthScope.resourceServer(server, invoke)] },
        accessTokenValidity: props.callerAccessTokenValidity ?? Duration.minutes(webhookDefaults.callerAccessTokenValidityMinutes),
        enableTokenRevocation: true,
        preventUserExistenceErrors: true,
      });
      const authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [props.userPool] });
      this.methodOptions = {
        authorizationType: apigateway.AuthorizationType.COGNITO,
        authorizer,
        authorizationScopes: [requiredScope],
        requestParameters,
      };
    } else if (has('iam')) {
      this.callerRole = new iam.Role(this, 'CallerRole', {
        assumedBy: props.callerPrincipal ?? new iam.AccountRootPrincipal(),
        description: 'Assumed by the system that calls the portal credentials webhook; may invoke its routes only',
        maxSessionDuration: Duration.hours(1),
      });
      this.methodOptions = { authorizationType: apigateway.AuthorizationType.IAM, requestParameters };
      // Unsigned, badly signed or expired requests: API Gateway's own 403s, answered as the contract's 401.
      const unauthorized = {
        statusCode: '401',
        responseHeaders: { 'WWW-Authenticate': `'${this.challenge}'` },
        templates: errorBody('UNAUTHORIZED', this.unauthorizedMessage),
      };
      this.gatewayResponses.InvalidSignature = { type: apigateway.ResponseType.INVALID_SIGNATURE, ...unauthorized };
      this.gatewayResponses.ExpiredToken = { type: apigateway.ResponseType.EXPIRED_TOKEN, ...unauthorized };
      // With IAM, a missing signature is also "Missing Authentication Token": it no longer means only "no such route".
      this.gatewayResponses.NotFound = {
        type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
        ...unauthorized,
        templates: errorBody('UNAUTHORIZED', 'The request is not signed with AWS Signature Version 4, or no such route exists.'),
      };
    } else {
      this.methodOptions = required.length > 0 ? { requestParameters } : {};
    }
  }

  /** Grants the caller role the webhook's routes and applies the allow-list, once the API has its methods. */
  public protect(api: apigateway.RestApi): void {
    const stage = api.deploymentStage.stageName;
    this.callerRole?.addToPolicy(
      new iam.PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: api.methods.map((method) => api.arnForExecuteApi(method.httpMethod, method.resource.path, stage)),
      }),
    );
    if (this.sourceIpAllowList.length === 0) return;
    const anyone = new iam.AnyPrincipal();
    // With IAM authorization, an Allow for everyone would let any signed AWS principal in: name the caller role instead.
    api.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [this.callerRole ? new iam.ArnPrincipal(this.callerRole.roleArn) : anyone],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
    );
    api.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [anyone],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { NotIpAddress: { 'aws:SourceIp': this.sourceIpAllowList } },
      }),
    );
    // A resource policy takes effect only with a new deployment of the stage.
    api.latestDeployment?.addToLogicalId({
      sourceIpAllowList: this.sourceIpAllowList,
      callerRole: this.callerRole ? Stack.of(this).resolve(this.callerRole.roleArn) : undefined,
    });
  }
}
