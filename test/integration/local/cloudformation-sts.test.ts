import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, describe, expect, it } from 'vitest';
import { startAwsControlPlane } from '../../../local/stand-ins/aws-control-plane.ts';

const controlPlane = await startAwsControlPlane();
afterAll(() => controlPlane.close());
const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, endpoint: controlPlane.url, maxAttempts: 1 };
const cloudFormation = new CloudFormationClient(local);
const sts = new STSClient(local);
afterAll(() => {
  cloudFormation.destroy();
  sts.destroy();
});

describe('the control-plane stand-in on the query protocol', () => {
  it('answers DescribeStacks with the outputs of a stack put there, as the CloudFormation client reads them', async () => {
    // Prepare
    controlPlane.putStack({ name: 'portal-credentials-local', outputs: { DeploymentId: 'local', RegistryTableName: 'a & <b>' } });

    // Act
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: 'portal-credentials-local' }));

    // Assess
    expect(Stacks).toHaveLength(1);
    expect(Stacks?.[0]).toMatchObject({ StackName: 'portal-credentials-local', StackStatus: 'CREATE_COMPLETE' });
    expect(Stacks?.[0]?.Outputs).toEqual([
      { OutputKey: 'DeploymentId', OutputValue: 'local' },
      { OutputKey: 'RegistryTableName', OutputValue: 'a & <b>' },
    ]);
  });

  it('answers an unknown stack with ValidationError "Stack with id … does not exist", as CloudFormation does', async () => {
    // Act
    const failure = await cloudFormation.send(new DescribeStacksCommand({ StackName: 'nowhere' })).catch((error: Error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'ValidationError', message: 'Stack with id nowhere does not exist' });
  });

  it('answers GetCallerIdentity with the local operator ARN, as the STS client reads it', async () => {
    // Act
    const identity = await sts.send(new GetCallerIdentityCommand({}));

    // Assess
    expect(identity).toMatchObject({ Arn: 'arn:aws:iam::000000000000:user/local-operator', Account: '000000000000' });
  });

  it('fails a query call through the same fault injection as the other services', async () => {
    // Prepare
    controlPlane.injectFault('GetCallerIdentity', { kind: 'error', status: 403, errorType: 'AccessDenied' });

    // Act
    const failure = await sts.send(new GetCallerIdentityCommand({})).catch((error: Error) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'AccessDenied' });
  });
});
