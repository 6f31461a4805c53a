import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { addWebhookOutputs, PortalCredentialsWebhook, parseSettings } from '../../../infra/index.ts';
import { comparableTemplate } from '../../helpers/templates.ts';
import { buildStack, cdkJson } from '../../helpers/webhook-stack.ts';

const unbundled = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const settings = cdkJson.context.portalCredentialsWebhook as Record<string, unknown>;

describe('the package entry point', () => {
  it("validates fromSettings the way cdk.json's settings are validated, with the same messages naming each field", () => {
    // Prepare
    const bad = { throttling: { rateLimit: -1 }, claim: { leaseSeconds: 10 }, authentication: { schemes: ['jwt'] } };
    const cdkJsonMessage = (() => {
      try {
        parseSettings(bad);
      } catch (error) {
        return (error as Error).message;
      }
    })()!;

    // Act
    const act = () => PortalCredentialsWebhook.fromSettings(new Stack(unbundled(), 'Consumer'), 'Webhook', bad as never);

    // Assess: the same problems, line for line; only the heading says where the settings came from.
    const problems = cdkJsonMessage.split('\n').slice(1);
    expect(problems.join('\n')).toMatch(/throttling\.rateLimit: .*\n.*claim\.leaseSeconds: .*\n.*authentication\.accessTokens: is required/);
    expect(act).toThrow(`Invalid settings in the settings of PortalCredentialsWebhook "Webhook":\n${problems.join('\n')}`);
  });

  it("gives a consumer's stack the same resources, policies and outputs as this repository's app for the same settings", () => {
    // Prepare
    const app = unbundled();
    const consumer = new Stack(app, 'Webhook');

    // Act
    const webhook = PortalCredentialsWebhook.fromSettings(consumer, 'Webhook', settings);
    addWebhookOutputs(consumer, webhook);

    // Assess
    const ours = comparableTemplate(Template.fromStack(buildStack({ bundle: false, stackName: 'Webhook' }).stack).toJSON());
    const theirs = comparableTemplate(Template.fromStack(consumer).toJSON());
    expect(Object.keys(theirs.Resources).sort()).toEqual(Object.keys(ours.Resources).sort());
    expect(theirs.Resources).toEqual(ours.Resources);
    expect(theirs.Outputs).toEqual(ours.Outputs);
  });
});
