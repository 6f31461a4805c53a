import { randomBytes } from 'node:crypto';
import { startLocalWebhook } from './local-webhook.ts';

/** `npm start`: the webhook on this machine, no AWS account needed. */
const username = process.env.WEBHOOK_USERNAME ?? 'portal';
const password = process.env.WEBHOOK_PASSWORD ?? randomBytes(18).toString('base64url');
const port = Number(process.env.PORT ?? 3000);

// CREDENTIAL_POLICY (JSON, as deployed) switches which APIs get which credential type.
const policy = process.env.CREDENTIAL_POLICY;
const webhook = await startLocalWebhook({ basicCredentials: [{ username, password }], port, environment: policy ? { CREDENTIAL_POLICY: policy } : {} });

const example = JSON.stringify({
  appName: 'my new aws app',
  appSlug: '590d83b5c05f',
  developer: 'email@mycompany.com',
  apis: [{ id: '5aba4csvd4', usagePlans: [{ id: '1el57v' }] }],
});
console.log(`portal-credentials-webhook listening on ${webhook.url}

Basic credentials: ${username} / ${password}${process.env.WEBHOOK_PASSWORD ? ' (from WEBHOOK_PASSWORD)' : ' (generated; set WEBHOOK_USERNAME and WEBHOOK_PASSWORD to choose)'}

Try it:
  curl -s -u '${username}:${password}' -H 'Content-Type: application/json' \\
    -d '${example}' \\
    ${webhook.url}/v1/createCredentials

Client credentials for the Payments API (q8w2e4r6t1) come from a local Cognito stand-in;
fetch a token at ${webhook.cognito.tokenUrl}

The sample API (GET orders with an API key for 5aba4csvd4, GET payments with a token carrying payments/read):
  ${webhook.sampleApi.url}

Prove it all works, end to end:
  WEBHOOK_USERNAME='${username}' WEBHOOK_PASSWORD='${password}' npm run verify -- --url ${webhook.url} \\
    --sample-url ${webhook.sampleApi.url} --sample-api-id ${webhook.sampleApi.ordersApiId} --sample-plan-id ${webhook.sampleApi.usagePlanId} \\
    --payments-api-id ${webhook.sampleApi.paymentsApiId} --scope ${webhook.sampleApi.paymentsScope}

Ctrl-C stops it; nothing is kept between runs.`);

const stop = async () => {
  await webhook.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
