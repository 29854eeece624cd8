// Where outside providers push what became of a message: Tencent Cloud's voice notification status
// ("语音通知状态通知", https://cloud.tencent.com/document/product/1128/51534), the only way VMS reports
// whether a call was answered. Set the VMS console's event callback URL to
// <Anju's address>/callbacks/tencent/vms/<ANJU_TENCENT_VMS_CALLBACK_TOKEN>: the token in the path is what
// keeps anyone else from reporting a call answered (which would stop failover). No session, no API token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  VoicepromptCallback,
  type TencentCallReports,
} from '../../alerting/channels/providers/tencent-call-reports.ts';

export interface ProviderCallbacksOptions {
  tencentVoice: { reports: TencentCallReports; token: string };
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export default async function providerCallbacks(
  app: FastifyInstance,
  opts: ProviderCallbacksOptions,
): Promise<void> {
  const expected = digest(opts.tencentVoice.token);
  app.withTypeProvider<ZodTypeProvider>().post(
    '/callbacks/tencent/vms/:token',
    {
      schema: {
        hide: true, // for Tencent's servers, not part of Anju's API
        params: z.strictObject({ token: z.string().max(100) }),
        body: VoicepromptCallback,
      },
    },
    async (req, reply) => {
      if (!timingSafeEqual(digest(req.params.token), expected)) return reply.code(404).send();
      // Stored before answering: "OK" says the outcome is kept where every process sees it.
      await opts.tencentVoice.reports.receive(req.body);
      return { result: 0, errmsg: 'OK' }; // the answer the callback documents
    },
  );
}
