import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { PortalCredentialsWebhookStack } from '../../infra/portal-credentials-webhook-stack.ts';
import { parseSettings, SETTINGS_CONTEXT_KEY } from '../../infra/settings.ts';

export const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };
export const testEnv = { account: '123456789012', region: 'eu-west-1' };

/** A stack from cdk.json's own settings, optionally changed; bundles the functions only when asked. */
export const buildStack = (options: {
  bundle: boolean;
  change?: (settings: Record<string, unknown>) => Record<string, unknown>;
  env?: typeof testEnv;
  stackName?: string;
}) => {
  const context = { ...cdkJson.context, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) };
  const app = new App({ context });
  const raw = app.node.tryGetContext(SETTINGS_CONTEXT_KEY) as Record<string, unknown>;
  const settings = parseSettings(options.change ? options.change(structuredClone(raw)) : raw);
  const stack = new PortalCredentialsWebhookStack(app, options.stackName ?? 'Webhook', { settings, ...(options.env ? { env: options.env } : {}) });
  return { app, stack };
};

/** The AwsSolutions findings nothing acknowledges, as "<severity> <rule> at <path>". */
export const nagFindings = (scope: IConstruct) =>
  new AwsSolutionsChecks(undefined, { verbose: true })
    .validateScope(scope)
    .violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.severity} ${violation.ruleName} at ${resource.constructPath}`),
    );
