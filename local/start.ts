import { randomBytes } from 'node:crypto';
import { functionDefaults } from '#commons/defaults';
import { startFarSampleApi } from './far-sample-api.ts';
import { localPlaces, startLocalWebhook } from './local-webhook.ts';
import { operatorCommandLines } from './operator-commands.ts';

/** `npm start`: the webhook on this machine, no AWS account needed. */
const username = process.env.WEBHOOK_USERNAME ?? 'portal';
const password = process.env.WEBHOOK_PASSWORD ?? randomBytes(18).toString('base64url');
const port = Number(process.env.PORT ?? 3000);

// AUTH_SCHEMES (as deployed, e.g. "basic,bearer,apiKey,jwt" or "cognito") chooses how callers authenticate.
const schemes = (process.env.AUTH_SCHEMES ?? functionDefaults.authSchemes.join(',')).split(',').map((scheme) => scheme.trim());
const bearerToken = process.env.WEBHOOK_BEARER_TOKEN ?? randomBytes(30).toString('base64url');
const apiKey = process.env.WEBHOOK_API_KEY ?? randomBytes(30).toString('base64url');
const apiKeyHeader = process.env.API_KEY_HEADER ?? functionDefaults.apiKeyHeader;

// CREDENTIAL_POLICY (JSON, as deployed) switches which APIs get which credential type.
const policy = process.env.CREDENTIAL_POLICY;
const webhook = await startLocalWebhook({
  basicCredentials: [{ username, password }],
  ...(schemes.includes('bearer') ? { bearerTokens: [{ id: 'local-bearer', token: bearerToken }] } : {}),
  ...(schemes.includes('apiKey') ? { apiKeys: [{ id: 'local-api-key', key: apiKey }] } : {}),
  port,
  environment: policy ? { CREDENTIAL_POLICY: policy } : {},
});
const farSample = await startFarSampleApi(webhook);
/** Whether the policy places the far sample's API where that sample stands: the local policy does; one from CREDENTIAL_POLICY may not. */
const policyPlacesFarApi = () => {
  if (!policy) return true;
  try {
    const api = (JSON.parse(policy) as { apis?: Record<string, { account?: string; region?: string }> }).apis?.[farSample.apiId];
    return api?.region === localPlaces.europe.region && (api.account ?? localPlaces.europe.account) === localPlaces.europe.account;
  } catch {
    return false;
  }
};

const example = JSON.stringify({
  appName: 'my new aws app',
  appSlug: '590d83b5c05f',
  developer: 'email@mycompany.com',
  apis: [{ id: '5aba4csvd4', usagePlans: [{ id: '1el57v' }] }],
});
const fetchCallerToken = `TOKEN=$(curl -s -u '${webhook.caller.clientId}:${webhook.caller.clientSecret}' -d grant_type=client_credentials -d scope=${webhook.caller.scope} ${webhook.cognito.tokenUrl} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`;
const ways: Record<string, string> = {
  basic: `Basic credentials: ${username} / ${password}${process.env.WEBHOOK_PASSWORD ? ' (from WEBHOOK_PASSWORD)' : ' (generated; set WEBHOOK_USERNAME and WEBHOOK_PASSWORD to choose)'}
  curl -s -u '${username}:${password}' -H 'Content-Type: application/json' \\
    -d '${example}' \\
    ${webhook.url}/v1/createCredentials`,
  bearer: `Static bearer token (id local-bearer${process.env.WEBHOOK_BEARER_TOKEN ? ', from WEBHOOK_BEARER_TOKEN' : ', generated'}):
  curl -si -H 'Authorization: Bearer ${bearerToken}' ${webhook.url}/v1/health`,
  apiKey: `API key in ${apiKeyHeader} (id local-api-key${process.env.WEBHOOK_API_KEY ? ', from WEBHOOK_API_KEY' : ', generated'}):
  curl -si -H '${apiKeyHeader}: ${apiKey}' ${webhook.url}/v1/health`,
  jwt: process.env.JWT_ISSUER
    ? `OAuth 2.0 access tokens of ${process.env.JWT_ISSUER} (from JWT_ISSUER${process.env.JWT_JWKS_URL ? ', JWT_JWKS_URL' : ''}${process.env.JWT_CLIENT_IDS ? ', JWT_CLIENT_IDS' : ''}${process.env.JWT_AUDIENCES ? ', JWT_AUDIENCES' : ''}):
  curl -si -H "Authorization: Bearer $TOKEN" ${webhook.url}/v1/health`
    : `OAuth 2.0 access token of the caller client, from the local token endpoint (set JWT_ISSUER, JWT_JWKS_URL, JWT_CLIENT_IDS to trust another issuer):
  ${fetchCallerToken}
  curl -si -H "Authorization: Bearer $TOKEN" ${webhook.url}/v1/health`,
};
const operator = operatorCommandLines(webhook, '590d83b5c05f', policyPlacesFarApi() ? farSample : undefined);
ways.cognito = `${ways.jwt}\n  (locally the jwt scheme makes the Cognito authorizer's check against the local pool)`;

console.log(`portal-credentials-webhook listening on ${webhook.url}

Authentication: ${schemes.join(', ')} (AUTH_SCHEMES)

Try it:
${schemes.map((scheme) => ways[scheme] ?? `${scheme}: see docs/portal-administrators.md, Authentication`).join('\n\n')}

Client credentials for the Payments API (q8w2e4r6t1) come from a local Cognito stand-in;
fetch a token at ${webhook.cognito.tokenUrl}

APIs in two Regions and two accounts (one key per place, one value): besides this webhook's own
000000000000/us-east-1, the Orders API (Europe) ${localPlaces.europe.apiId} with plan ${localPlaces.europe.usagePlanId} lives in ${localPlaces.europe.account}/${localPlaces.europe.region},
and the Partner API ${localPlaces.partner.apiId} with plan ${localPlaces.partner.usagePlanId} in ${localPlaces.partner.account}/${localPlaces.partner.region}, reached through that account's role.
Ask for all three in one app: "apis":[{"id":"5aba4csvd4","usagePlans":[{"id":"1el57v"}]},{"id":"${localPlaces.europe.apiId}","usagePlans":[{"id":"${localPlaces.europe.usagePlanId}"}]},{"id":"${localPlaces.partner.apiId}","usagePlans":[{"id":"${localPlaces.partner.usagePlanId}"}]}]

The sample API (GET orders with an API key for 5aba4csvd4, GET payments with a token carrying payments/read):
  ${webhook.sampleApi.url}
and in ${farSample.place} (GET orders with an API key for ${farSample.apiId}, plan ${farSample.usagePlanId}: the same key value, when one app asks for both):
  ${farSample.url}

Operator commands against this local stack (${webhook.stackName}), each one line, from this checkout in another shell:
  Audit:   ${operator.audit}
  History: ${operator.history}
  Verify:  ${operator.verify}
(Add --json for one JSON document on stdout; --help for each command's options.)

Ctrl-C stops it; nothing is kept between runs.`);

const stop = async () => {
  await Promise.all([farSample.close(), webhook.close()]);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
