/** Who runs a command, as AWS knows them: STS GetCallerIdentity's ARN (the SDK honours AWS_ENDPOINT_URL_STS). */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { awsClientSettings } from '#clients/retry-settings';

/** The caller's ARN, or the error's name: GetCallerIdentity needs no permission, so a failure means no usable credentials. */
export const callerArn = async (region: string | undefined): Promise<{ arn: string } | { error: string }> => {
  const sts = new STSClient({ ...awsClientSettings, ...(region ? { region } : {}) });
  try {
    const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
    return Arn ? { arn: Arn } : { error: 'no ARN in the answer' };
  } catch (error) {
    return { error: (error as Error)?.name ?? 'Error' };
  } finally {
    sts.destroy();
  }
};
