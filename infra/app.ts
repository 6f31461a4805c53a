import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PortalCredentialsWebhookStack } from './portal-credentials-webhook-stack.ts';
import { parseSettings, SETTINGS_CONTEXT_KEY, type Settings } from './settings.ts';

const app = new App();

let settings: Settings;
try {
  settings = parseSettings(app.node.tryGetContext(SETTINGS_CONTEXT_KEY));
} catch (error) {
  // A clear message, not a stack trace: the fix is in cdk.json.
  console.error((error as Error).message);
  process.exit(1);
}

new PortalCredentialsWebhookStack(app, settings.stackName, {
  settings,
  description: 'Credentials webhook for the Sensedia Developer Portal (API keys and Cognito client credentials)',
  // Account and Region of the CLI's profile; without them the stack stays environment-agnostic.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// cdk-nag v3 runs as a CDK validation plugin: any unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
