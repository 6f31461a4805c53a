import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { suppressAcceptedFindings } from './nag-suppressions.ts';
import { addWebhookOutputs, PortalCredentialsWebhook, type Settings } from './index.ts';

export interface PortalCredentialsWebhookStackProps extends StackProps {
  /** The validated cdk.json settings. */
  readonly settings: Settings;
}

/**
 * This repository's deployable unit, one consumer of the package's entry point like any other:
 * the webhook configured from cdk.json settings, its outputs, and cdk-nag's accepted findings.
 */
export class PortalCredentialsWebhookStack extends Stack {
  public readonly webhook: PortalCredentialsWebhook;

  constructor(scope: Construct, id: string, props: PortalCredentialsWebhookStackProps) {
    super(scope, id, props);
    this.webhook = PortalCredentialsWebhook.fromSettings(this, 'Webhook', props.settings);
    addWebhookOutputs(this, this.webhook);
    suppressAcceptedFindings(this.webhook);
  }
}
