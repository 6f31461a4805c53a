/**
 * `npm run bench:audit`: the drift audit over 10,000 API keys and 1,000 app clients in the
 * local stand-ins, unpaced: its time here, and the AWS calls it makes, from which the time
 * on real AWS follows (page sizes and the audit's pacing under AWS's rate limits).
 * Writes bench/results/audit.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient, CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { functionDefaults } from '#commons/defaults';
import { managedByTag, managedByValue, appKeyTag } from '#provisioning/api-key-provisioner';
import { Audit } from '../lambda/audit/audit.ts';
import { apiGatewayRates, cognitoRates } from '../lambda/audit/rate-limiter.ts';
import { startLocalWebhook } from '../local/local-webhook.ts';

const keyCount = Number(process.env.BENCH_AUDIT_KEYS ?? 10_000);
const clientCount = Number(process.env.BENCH_AUDIT_CLIENTS ?? 1_000);
const plans = ['1el57v', '2fm68w', '3gn79x'];
const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

const inParallel = async <T>(count: number, concurrency: number, run: (index: number) => Promise<T>): Promise<T[]> => {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await run(index);
      }
    }),
  );
  return results;
};

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const webhook = await startLocalWebhook({
  basicCredentials: [{ username: 'bench', password: 'bench-password' }],
  environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
});
const apiGateway = new APIGatewayClient({ ...local, endpoint: webhook.controlPlane.url });
const cognito = new CognitoIdentityProviderClient({ ...local, endpoint: webhook.cognito.url });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...local, endpoint: webhook.dynamoDbUrl }));

console.log(`Seeding ${keyCount} API keys (each linked to a plan) and ${clientCount} app clients, each recorded in the registry…`);
const seedStart = performance.now();
const now = new Date().toISOString();
const record = (
  appKey: string,
  credentialType: 'API_KEY' | 'CLIENT_CREDENTIALS',
  credentialId: string,
  grant: { usagePlanIds: string[]; scopes: string[] },
) => ({
  appKey,
  appSlug: appKey,
  appName: appKey,
  developer: 'bench@example.com',
  credentialType,
  state: 'ACTIVE',
  credentialId,
  apiIds: [credentialType === 'API_KEY' ? '5aba4csvd4' : 'q8w2e4r6t1'],
  ...grant,
  createdAt: now,
  updatedAt: now,
});
const records = await inParallel(keyCount, 32, async (index) => {
  const appKey = `bench-key-${index}`;
  const plan = plans[index % plans.length] as string;
  const { id } = await apiGateway.send(
    new CreateApiKeyCommand({ name: `portal-${appKey}`, enabled: true, tags: { [managedByTag]: managedByValue, [appKeyTag]: appKey } }),
  );
  await apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId: plan, keyId: id, keyType: 'API_KEY' }));
  return record(appKey, 'API_KEY', id as string, { usagePlanIds: [plan], scopes: [] });
});
records.push(
  ...(await inParallel(clientCount, 8, async (index) => {
    const appKey = `bench-client-${index}`;
    const { UserPoolClient } = await cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: webhook.cognito.userPoolId,
        ClientName: `portal-${appKey}`,
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: ['payments/read'],
      }),
    );
    return record(appKey, 'CLIENT_CREDENTIALS', UserPoolClient?.ClientId as string, { usagePlanIds: [], scopes: ['payments/read'] });
  })),
);
for (let index = 0; index < records.length; index += 25) {
  await documents.send(
    new BatchWriteCommand({ RequestItems: { [webhook.tableName]: records.slice(index, index + 25).map((Item) => ({ PutRequest: { Item } })) } }),
  );
}
console.log(`Seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s.`);

const audit = new Audit({
  registryTableName: webhook.tableName,
  apiKeys: { deploymentId: functionDefaults.deploymentId, linkableUsagePlanIds: plans },
  appClients: { userPoolId: webhook.cognito.userPoolId, tokenUrl: 'http://unused', accessTokenValidityMinutes: 60 },
  leaseMs: 60_000,
  rateLimited: false,
});
const started = performance.now();
const { report, calls } = await audit.run();
const seconds = (performance.now() - started) / 1000;
audit.destroy();

// Real AWS: the audit's pacing (80% of each limit) is what bounds it, not latency.
const count = (operation: string) => calls[operation] ?? 0;
const awsPages = {
  'apigateway:GetApiKeys': Math.ceil(keyCount / 500),
  'apigateway:GetUsagePlanKeys': plans.length * Math.max(1, Math.ceil(keyCount / plans.length / 500)),
  // cognito-local answers every client in one page; Cognito pages by 60.
  'cognito-idp:ListUserPoolClients': Math.ceil(clientCount / 60),
  'cognito-idp:DescribeUserPoolClient': count('cognito-idp:DescribeUserPoolClient'),
};
const apiGatewaySeconds = (awsPages['apigateway:GetApiKeys'] + awsPages['apigateway:GetUsagePlanKeys']) / apiGatewayRates.total.perSecond;
const describeRate = cognitoRates.operations?.DescribeUserPoolClient?.perSecond ?? 1;
const cognitoSeconds = awsPages['cognito-idp:DescribeUserPoolClient'] / describeRate + awsPages['cognito-idp:ListUserPoolClients'] / describeRate;
const result = {
  apiKeys: keyCount,
  appClients: clientCount,
  drift: report.drift.length,
  localSeconds: Number(seconds.toFixed(2)),
  callsInStandIns: calls,
  callsOnAws: { ...awsPages, 'dynamodb:Scan': count('dynamodb:Scan') },
  estimatedSecondsOnAws: Math.ceil(apiGatewaySeconds + cognitoSeconds),
};
console.log(`
Audit of ${keyCount.toLocaleString('en-US')} API keys and ${clientCount.toLocaleString('en-US')} app clients: ${result.localSeconds} s in the stand-ins, ${report.drift.length} drift found
AWS calls in the stand-ins: ${Object.entries(calls)
  .map(([operation, n]) => `${operation} ${n}`)
  .join(', ')}
On AWS (page sizes 500 / 60, paced at ${apiGatewayRates.total.perSecond}/s for API Gateway and ${describeRate}/s per Cognito operation):
  ${Object.entries(result.callsOnAws)
    .map(([operation, n]) => `${operation} ${n}`)
    .join(', ')}
  about ${result.estimatedSecondsOnAws} s, nearly all of it one DescribeUserPoolClient per app client (Cognito lists names only)`);
mkdirSync(join(process.cwd(), 'bench', 'results'), { recursive: true });
writeFileSync(join(process.cwd(), 'bench', 'results', 'audit.json'), `${JSON.stringify(result, null, 2)}\n`);
apiGateway.destroy();
cognito.destroy();
documents.destroy();
await webhook.close();
